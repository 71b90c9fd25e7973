using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Design.Optimiser;

/// <summary>
/// The predictors' part of one KIAGO step, L_b = −(μ_Tc − κ·σ_Tc) + α·(μ_Ef + κ·σ_Ef), and its input gradient.
/// κ = 0 (the default), or a model without uncertainty data: exactly the published −Tc + α·Ef through the plain
/// <see cref="ICompositionModel"/>s (the flagship networks, byte for byte). κ &gt; 0 with uncertainty: the
/// uncertain model's μ and σ (the ensemble mean and its calibrated spread) in one backward pass each — a lower
/// confidence bound on Tc and an upper one on Ef, so the optimiser prefers candidates it is sure of on both counts.
/// Each <see cref="ExtraObjective"/> adds its <see cref="ExtraObjective.LossFactor"/>·value (its μ: the flagship network).
/// </summary>
public sealed class DesignObjective(ICompositionModel tc, ICompositionModel ef, float alpha, float kappa,
    IUncertainCompositionModel? tcUncertainty = null, IUncertainCompositionModel? efUncertainty = null,
    IReadOnlyList<ExtraObjective>? extras = null)
{
    /// <summary>The user's objectives beyond Tc and Ef, in command-line order.</summary>
    public IReadOnlyList<ExtraObjective> Extras { get; } = extras ?? [];

    public float Alpha => alpha;
    public float Kappa => kappa;

    /// <summary>The Tc term carries −κ·σ (κ &gt; 0 and the Tc model has uncertainty data).</summary>
    public bool PenalisesTcSigma => kappa > 0 && tcUncertainty is { HasUncertainty: true };

    /// <summary>The Ef term carries +α·κ·σ (κ &gt; 0 and the Ef model has uncertainty data).</summary>
    public bool PenalisesEfSigma => kappa > 0 && efUncertainty is { HasUncertainty: true };

    /// <summary>
    /// tcOut/efOut = μ of the objective's models, tcSigma/efSigma = σ where penalised (left untouched otherwise), and
    /// gradX[b, :] += scale · ∂L_b/∂x_b.
    /// </summary>
    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> tcOut, DeviceBuffer<float> tcSigma,
        DeviceBuffer<float> efOut, DeviceBuffer<float> efSigma, DeviceBuffer<float> gradX, float scale,
        IReadOnlyList<DeviceBuffer<float>>? extraOut = null)
    {
        if (Extras.Count > 0 && (extraOut is null || extraOut.Count != Extras.Count))
            throw new ArgumentException($"{Extras.Count} extra objectives need as many output buffers", nameof(extraOut));
        for (int k = 0; k < Extras.Count; k++) Extras[k].Model.ForwardBackward(batch, x, extraOut![k], gradX, Extras[k].LossFactor * scale);
        if (PenalisesTcSigma) tcUncertainty!.ForwardBackwardWithSigma(batch, x, tcOut, tcSigma, gradX, -scale, kappa * scale);
        else tc.ForwardBackward(batch, x, tcOut, gradX, -scale);
        if (PenalisesEfSigma) efUncertainty!.ForwardBackwardWithSigma(batch, x, efOut, efSigma, gradX, alpha * scale, alpha * kappa * scale);
        else ef.ForwardBackward(batch, x, efOut, gradX, alpha * scale);
    }

    /// <summary>L_b on host values (σ ignored where not penalised; <paramref name="extraValues"/>: one per extra objective), for traces and tests.</summary>
    public double Loss(double tcMean, double tcSigma, double efMean, double efSigma, ReadOnlySpan<double> extraValues = default)
    {
        double loss = -(tcMean - (PenalisesTcSigma ? kappa * tcSigma : 0)) + alpha * (efMean + (PenalisesEfSigma ? kappa * efSigma : 0));
        for (int k = 0; k < Extras.Count && k < extraValues.Length; k++) loss += Extras[k].LossFactor * extraValues[k];
        return loss;
    }
}
