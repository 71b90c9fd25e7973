using Kiago.Kernels;

namespace Kiago.Nets;

/// <summary>
/// A frozen predictor over compositions: input [batch, 118] atom fractions (index = Z − 1) on the model's backend,
/// output one value per candidate (Tc in K, Ef in eV/atom, …). The seam between the optimiser and the nets:
/// the optimiser only ever sees this.
/// </summary>
public interface ICompositionModel : IDisposable
{
    /// <summary>What the output is, e.g. "tc".</summary>
    string OutputName { get; }

    /// <summary>Unit of the output, e.g. "K" or "eV/atom".</summary>
    string OutputUnit { get; }

    IBackend Backend { get; }

    /// <summary>y[b] = f(x[b]) for b &lt; batch.</summary>
    void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y);

    /// <summary>
    /// y[b] = f(x[b]) and dxAccumulate[b, :] += gradScale · ∂f(x[b])/∂x[b] (the input gradient of each candidate,
    /// added into the caller's buffer so several losses can share one gradient buffer).
    /// </summary>
    void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale);
}
