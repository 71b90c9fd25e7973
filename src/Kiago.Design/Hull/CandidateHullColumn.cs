using Kiago.Chemistry;
using Kiago.Design.Pipeline;

namespace Kiago.Design.Hull;

/// <summary>
/// The e_above_hull column of candidates.csv: for each row's final integer formula, max(0, ef_rounded − hull) in
/// eV/atom against the predicted hull of its chemical system. NaN where there is no formula (degenerate, all zero),
/// Ef is not finite, or the system has fewer than 2 or more than 8 elements (the validated range).
/// </summary>
public static class CandidateHullColumn
{
    public const int MinElements = 2, MaxElements = 8;

    public static double[] Compute(PredictedHull hull, IReadOnlyList<CandidateRow> rows, Action<string>? progress = null)
    {
        var formulas = rows.Select(r => r.Formula.Length > 0 && double.IsFinite(r.EfRounded) && Composition.TryParse(r.Formula, out var c, out _)
            && c.Count is >= MinElements and <= MaxElements ? c : null).ToArray();
        int before = hull.Predicted;
        hull.Prepare(formulas.OfType<Composition>()); // one batched model call for the base's new references
        var hullEnergies = new Dictionary<Composition, double>(); // rows repeat formulas: one linear program each
        var result = new double[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            if (formulas[i] is not { } f) { result[i] = double.NaN; continue; }
            if (!hullEnergies.TryGetValue(f, out double h)) hullEnergies[f] = h = hull.For(f).Diagram.HullEnergy(f);
            result[i] = Math.Max(0, rows[i].EfRounded - h); // = PhaseDiagram.EnergyAboveHull
        }
        progress?.Invoke($"kiago: e_above_hull: {hull.Predicted - before} new reference compounds predicted ({hull.Predicted} in all)");
        return result;
    }
}
