using Kiago.Nets;

namespace Kiago.Design.Optimiser;

/// <summary>
/// A user's predictor added to the design loss next to Tc and Ef (`--objective NAME=FILE.kgw:WEIGHT[:maximise|minimise]`):
/// the loss gains +<see cref="Weight"/>·value when minimised, −<see cref="Weight"/>·value when maximised. Its value
/// on each final integer formula is a column of candidates.csv named <see cref="Name"/>, and its σ (when the model has
/// uncertainty data) the column <see cref="Name"/>_sigma.
/// </summary>
public sealed record ExtraObjective(string Name, ICompositionModel Model, float Weight, bool Maximise, IUncertainCompositionModel? Uncertainty = null)
{
    /// <summary>The factor of the value in the loss: −Weight to maximise, +Weight to minimise.</summary>
    public float LossFactor => Maximise ? -Weight : Weight;

    /// <summary>Whether the σ column is written (the model has uncertainty data).</summary>
    public bool HasSigma => Uncertainty is { HasUncertainty: true };
}
