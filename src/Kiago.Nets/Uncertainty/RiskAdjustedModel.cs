using Kiago.Kernels;

namespace Kiago.Nets.Uncertainty;

/// <summary>
/// y = μ − κ·σ as a plain <see cref="ICompositionModel"/> (for κ &gt; 0 a lower confidence bound: what an optimiser
/// that maximises y may trust), its input gradient through both μ and σ in one backward pass. Without uncertainty
/// data (σ NaN) it is μ alone. Used by the uncertainty step benchmark; the optimiser's own κ objective (issue 12)
/// can be built the same way from <see cref="IUncertainCompositionModel.ForwardBackwardWithSigma"/>.
/// </summary>
public sealed class RiskAdjustedModel(IUncertainCompositionModel inner, float kappa) : ICompositionModel
{
    DeviceBuffer<float>? sigma;

    public float Kappa { get; } = kappa;
    public string OutputName => inner.OutputName;
    public string OutputUnit => inner.OutputUnit;
    public IBackend Backend => inner.Backend;

    DeviceBuffer<float> Sigma(int batch)
    {
        if (sigma is null || sigma.Length < batch)
        {
            sigma?.Dispose();
            sigma = Backend.Allocate<float>(batch);
        }
        return sigma;
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        var s = Sigma(batch);
        inner.ForwardWithSigma(batch, x, y, s);
        if (inner.HasUncertainty) Backend.Axpy(-Kappa, s, y, batch);
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        var s = Sigma(batch);
        inner.ForwardBackwardWithSigma(batch, x, y, s, dxAccumulate, gradScale, -Kappa * gradScale);
        if (inner.HasUncertainty) Backend.Axpy(-Kappa, s, y, batch);
    }

    /// <summary>Disposes the scratch buffer only; the inner model belongs to the caller.</summary>
    public void Dispose() => sigma?.Dispose();
}
