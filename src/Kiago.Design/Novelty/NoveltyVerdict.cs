namespace Kiago.Design.Novelty;

/// <summary>
/// A candidate's novelty against a known-compositions list: <see cref="Known"/> when its reduced formula is in the
/// list; the nearest known composition by L1 distance on atom fractions, Σ_e |x_e − y_e| (0 = same composition,
/// 2 = no element in common), and that composition's Tc (NaN where the list has none).
/// </summary>
public sealed record NoveltyVerdict(bool Known, string NearestFormula, double Distance, double NearestTcKelvin)
{
    /// <summary>For rows without a formula (degenerate, everything rounded away): no verdict.</summary>
    public static NoveltyVerdict None { get; } = new(false, "", double.NaN, double.NaN);
}
