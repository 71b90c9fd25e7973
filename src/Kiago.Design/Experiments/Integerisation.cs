using System.Globalization;
using System.Text;
using Kiago.Chemistry;

namespace Kiago.Design.Experiments;

/// <summary>One optimised candidate for the integerisation comparison: its stage-1 (pre-integer) composition, the
/// predicted Tc there, and the predicted Tc of the integer formula the integer loss led to.</summary>
public sealed record IntegerisationSample(Composition Stage1, double TcStage1, double TcIntegerLoss);

/// <summary>One evaluated sample: Tc at stage 1, after the integer loss, and after rounding (null: rounded to nothing).</summary>
public sealed record IntegerisationOutcome(double TcStage1, double TcIntegerLoss, double? TcRuleBased);

/// <summary>One row of the paper's Table 1: mean Tc change (after − before) of the integer loss and of rounding.</summary>
public sealed record IntegerisationRow(int MaxAtoms, int Samples, double IntegerLossMeanDeltaTc, double RuleBasedMeanDeltaTc, int RuleBasedEmpty);

/// <summary>
/// The rule-based integerisation the paper compares the integer loss against (§3.3, Table 1): multiply the atom
/// fractions by the maximum atom count and round each to the nearest integer; Tc is then predicted on the
/// renormalised integer formula.
/// </summary>
public static class Integerisation
{
    /// <summary>round(x_e · maxAtoms) half-to-even (numpy's round) for the atom fractions x; elements that round to 0 drop
    /// out; null when every element rounds to 0.</summary>
    public static IntegerFormula? RoundRuleBased(Composition composition, int maxAtoms)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAtoms, 1);
        double total = composition.TotalAtoms;
        var elements = new List<Element>();
        var counts = new List<long>();
        for (int i = 0; i < composition.Count; i++)
        {
            long n = (long)Math.Round(composition.Amounts[i] / total * maxAtoms, MidpointRounding.ToEven);
            if (n <= 0) continue;
            elements.Add(composition.Elements[i]);
            counts.Add(n);
        }
        return elements.Count == 0 ? null : new IntegerFormula([.. elements], [.. counts]);
    }

    /// <summary>
    /// Table-1 row for one max-atoms value: the integer loss's mean (Tc_integer − Tc_stage1) against rounding's mean
    /// (Tc(round(x·M)) − Tc_stage1) over the same samples. A sample whose rounding is empty counts with Tc 0 (the
    /// formula does not exist) and is counted in <see cref="IntegerisationRow.RuleBasedEmpty"/>.
    /// </summary>
    public static IntegerisationRow Compare(int maxAtoms, IReadOnlyList<IntegerisationSample> samples,
        Func<IReadOnlyList<Composition>, double[]> predictTc)
    {
        if (samples.Count == 0) throw new ArgumentException($"no samples for max atoms {maxAtoms}", nameof(samples));
        return Aggregate(maxAtoms, Evaluate(maxAtoms, samples, predictTc));
    }

    /// <summary>Each sample's three Tc values (rounding's is null where the rounded formula is empty), in sample order.</summary>
    public static IReadOnlyList<IntegerisationOutcome> Evaluate(int maxAtoms, IReadOnlyList<IntegerisationSample> samples,
        Func<IReadOnlyList<Composition>, double[]> predictTc)
    {
        var rounded = samples.Select(s => RoundRuleBased(s.Stage1, maxAtoms)).ToArray();
        var present = rounded.OfType<IntegerFormula>().Select(f => f.ToComposition()).ToArray();
        var tc = predictTc(present);
        if (tc.Length != present.Length) throw new InvalidOperationException($"predictor returned {tc.Length} values for {present.Length} formulas");
        var outcomes = new IntegerisationOutcome[samples.Count];
        int next = 0;
        for (int i = 0; i < samples.Count; i++)
            outcomes[i] = new IntegerisationOutcome(samples[i].TcStage1, samples[i].TcIntegerLoss, rounded[i] is null ? null : tc[next++]);
        return outcomes;
    }

    /// <summary>
    /// The Table-1 row from evaluated samples, summed in the order given (base order, then row order, so a run split
    /// by base and put together again sums the same numbers in the same order). No samples: NaN means.
    /// </summary>
    public static IntegerisationRow Aggregate(int maxAtoms, IEnumerable<IntegerisationOutcome> outcomes)
    {
        double ruleSum = 0, lossSum = 0;
        int count = 0, empty = 0;
        foreach (var o in outcomes)
        {
            if (o.TcRuleBased is null) empty++;
            ruleSum += (o.TcRuleBased ?? 0) - o.TcStage1;
            lossSum += o.TcIntegerLoss - o.TcStage1;
            count++;
        }
        return count == 0
            ? new IntegerisationRow(maxAtoms, 0, double.NaN, double.NaN, 0)
            : new IntegerisationRow(maxAtoms, count, lossSum / count, ruleSum / count, empty);
    }

    /// <summary>The rows as a markdown table in the paper's shape, with the paper's values beside ours.</summary>
    public static string Markdown(IReadOnlyList<IntegerisationRow> rows)
    {
        var paper = new Dictionary<int, (double Loss, double Rule)>
        {
            [15] = (-3.59, -7.65), [20] = (-0.81, -4.30), [25] = (-0.93, -2.23), [50] = (-0.43, -1.38), [100] = (-0.13, -0.31),
        };
        var sb = new StringBuilder();
        sb.Append("| max atoms | samples | L_integer ΔTc (K) | rule-based ΔTc (K) | integer loss better by (K) | paper L_integer / rule-based (K) |\n");
        sb.Append("|---|---|---|---|---|---|\n");
        foreach (var r in rows)
        {
            string p = paper.TryGetValue(r.MaxAtoms, out var v) ? $"{F(v.Loss)} / {F(v.Rule)}" : "–";
            sb.Append($"| {r.MaxAtoms} | {r.Samples}{(r.RuleBasedEmpty > 0 ? $" ({r.RuleBasedEmpty} rounded to nothing)" : "")} | {F(r.IntegerLossMeanDeltaTc)} | {F(r.RuleBasedMeanDeltaTc)} | {F(r.IntegerLossMeanDeltaTc - r.RuleBasedMeanDeltaTc)} | {p} |\n");
        }
        return sb.ToString();
    }

    static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "N/A";
}
