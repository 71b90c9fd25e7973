using Kiago.Chemistry;
using Kiago.Kernels;

namespace Kiago.Nets;

/// <summary>
/// A composition model that also gives each prediction a calibrated uncertainty σ and an applicability-domain score
/// (docs/MODELS.md, "Uncertainty"). μ (<see cref="ICompositionModel.Forward"/>) is the ensemble mean; with no
/// uncertainty data (an old .kgw alone) μ is the flagship network's output, bit for bit, and σ is NaN.
/// </summary>
public interface IUncertainCompositionModel : ICompositionModel
{
    /// <summary>False for a .kgw without uncertainty data: σ is NaN and carries no gradient.</summary>
    bool HasUncertainty { get; }

    /// <summary>What σ is, from the calibration card (e.g. "calibrated 68 % half-width, K"); empty without uncertainty.</summary>
    string SigmaMeaning { get; }

    /// <summary>The 95 % half-width is this multiple of σ (split-conformal on the validation split); NaN without uncertainty.</summary>
    double Interval95Factor { get; }

    /// <summary>mean[b] = μ(x[b]), sigma[b] = σ(x[b]) for b &lt; batch.</summary>
    void ForwardWithSigma(int batch, DeviceBuffer<float> x, DeviceBuffer<float> mean, DeviceBuffer<float> sigma);

    /// <summary>
    /// μ and σ as <see cref="ForwardWithSigma"/>, and dxAccumulate[b, :] += meanGradScale · ∂μ_b/∂x_b +
    /// sigmaGradScale · ∂σ_b/∂x_b (one backward pass through the shared networks). Without uncertainty only the
    /// μ term is added.
    /// </summary>
    void ForwardBackwardWithSigma(int batch, DeviceBuffer<float> x, DeviceBuffer<float> mean, DeviceBuffer<float> sigma,
        DeviceBuffer<float> dxAccumulate, float meanGradScale, float sigmaGradScale);

    /// <summary>
    /// Distance of each composition from the training data, scaled so that 1 is the 95th percentile of the validation
    /// split's distances (≤ 1: as close as typical held-out data; ≫ 1: out of domain; a composition made only of
    /// elements the training set never contains scores 2 / that percentile). The distance is the L1 distance in
    /// atom-fraction space to the nearest training composition (0 … 2). NaN without uncertainty data.
    /// </summary>
    double[] DomainScores(IReadOnlyList<Composition> compositions);
}
