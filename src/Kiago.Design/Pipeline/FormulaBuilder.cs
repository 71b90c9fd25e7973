using System.Globalization;
using Kiago.Chemistry;
using Kiago.Design.Constraints;

namespace Kiago.Design.Pipeline;

/// <summary>How the final integer formulas are made credible (the practical preset turns both on).</summary>
public sealed record FormulaRules
{
    /// <summary>Print formulas gcd-reduced (Cu2O4 → Cu1O2).</summary>
    public bool Reduce { get; init; }
    /// <summary>Most atoms the printed formula may have after rounding (and reduction); null = no bound (the published rounding).</summary>
    public int? MaxAtoms { get; init; }

    public bool IsPublished => !Reduce && MaxAtoms is null;
}

/// <summary>A final integer formula, the N it was rounded at, or why none could be made.</summary>
public sealed record FormulaOutcome(IntegerFormula? Formula, int N, string? Failure);

/// <summary>
/// The integer formula of one candidate. Published rules (no --fix, no --max, no atom bound, no reduction): exactly
/// round(x·N*) half-to-even, the reference's rounding. Otherwise the candidate N are N* first, then the rest of the
/// N-set by ascending Σ_e (x_e − round(x_e·N)/N)² (ties: smaller N); the first N whose formula keeps every rule wins:
/// <list type="bullet">
/// <item>--fix El=f: n_El is re-derived so that |n_El − f·n_total| ≤ ½ (the fraction equals f within the formula's
/// rounding) and n_El ≥ 1;</item>
/// <item>--max El=f: x is first projected (El capped at f, the excess spread over the other optimised elements in
/// proportion), then n_El is lowered until n_El ≤ f·n_total;</item>
/// <item>the atom bound: the printed formula (reduced when <see cref="FormulaRules.Reduce"/>) has ≤ MaxAtoms atoms.</item>
/// </list>
/// Reduction divides every count by their gcd, which keeps both fraction rules (|n − f·T|/g ≤ ½).
/// </summary>
public static class FormulaBuilder
{
    const int E = Elements.Count;
    const double Slack = 1e-9;

    public static FormulaOutcome Build(ReadOnlySpan<float> x, int nStar, IReadOnlyList<int> nSet, ResolvedConstraints constraints, FormulaRules rules)
    {
        bool exact = constraints.HasExact, capped = constraints.HasMaximum;
        if (!exact && !capped && rules.IsPublished)
        {
            var plain = BaseDesigner.RoundAt(x, nStar);
            return new FormulaOutcome(plain, nStar, plain is null ? "every element rounds to zero" : null);
        }
        var xs = new double[E];
        for (int e = 0; e < E; e++) xs[e] = x[e];
        if (capped) Project(xs, constraints);
        var order = nSet.Where(n => n != nStar).Select(n => (N: n, Loss: Loss(xs, n))).OrderBy(p => p.Loss).ThenBy(p => p.N)
            .Select(p => p.N).Prepend(nStar);
        var counts = new long[E];
        foreach (int n in order)
        {
            if (TryAt(xs, n, constraints, rules, counts) is { } formula) return new FormulaOutcome(formula, n, null);
        }
        var what = new List<string>();
        if (exact) what.Add("keeps the --fix fractions");
        if (capped) what.Add("keeps the --max ceilings");
        if (rules.MaxAtoms is { } m) what.Add($"has at most {m.ToString(CultureInfo.InvariantCulture)} atoms");
        return new FormulaOutcome(null, nStar, $"no N of the N-set gives an integer formula that {string.Join(" and ", what)}");
    }

    static IntegerFormula? TryAt(double[] x, int n, ResolvedConstraints c, FormulaRules rules, long[] counts)
    {
        for (int e = 0; e < E; e++) counts[e] = (long)Math.Round(x[e] * n, MidpointRounding.ToEven);
        for (int pass = 0; pass < 4; pass++)
        {
            bool changed = SolveExact(counts, c.Exact);
            changed |= LowerToCeilings(counts, c.Maximum);
            if (!changed) break;
        }
        long total = counts.Sum();
        if (total <= 0) return null;
        for (int e = 0; e < E; e++)
        {
            if (c.Exact[e] != 0f && (counts[e] < 1 || Math.Abs(counts[e] - (double)c.Exact[e] * total) > 0.5 + Slack)) return null;
            if (c.Maximum[e] < 1f && counts[e] > (double)c.Maximum[e] * total + Slack) return null;
        }
        long gcd = 0;
        if (rules.Reduce) foreach (var k in counts) if (k > 0) gcd = (long)System.Numerics.BigInteger.GreatestCommonDivisor(gcd, k);
        if (gcd < 1) gcd = 1;
        if (rules.MaxAtoms is { } max && total / gcd > max) return null;
        var elements = new List<Element>(); var kept = new List<long>();
        for (int e = 0; e < E; e++)
            if (counts[e] > 0) { elements.Add(Elements.ByZ(e + 1)); kept.Add(counts[e] / gcd); }
        return new IntegerFormula([.. elements], [.. kept]);
    }

    /// <summary>n_i = round(f_i·T) with T = (the other atoms) + Σ n_i, found by fixed-point iteration from T_o/(1 − Σf).</summary>
    static bool SolveExact(long[] counts, float[] exact)
    {
        double fixedSum = 0; long others = 0;
        for (int e = 0; e < E; e++)
            if (exact[e] != 0f) fixedSum += exact[e]; else others += counts[e];
        if (fixedSum == 0) return false;
        bool changed = false;
        double total = others / (1 - fixedSum);
        for (int iteration = 0; iteration < 16; iteration++)
        {
            long sum = others; bool moved = false;
            for (int e = 0; e < E; e++)
            {
                if (exact[e] == 0f) continue;
                long k = (long)Math.Round(exact[e] * total, MidpointRounding.ToEven);
                if (k != counts[e]) { counts[e] = k; moved = changed = true; }
                sum += k;
            }
            total = sum;
            if (!moved && iteration > 0) break;
        }
        return changed;
    }

    /// <summary>Lowers each capped count until n_e ≤ f_e·n_total.</summary>
    static bool LowerToCeilings(long[] counts, float[] maximum)
    {
        bool changed = false;
        long total = counts.Sum();
        for (int e = 0; e < E; e++)
        {
            if (maximum[e] >= 1f) continue;
            while (counts[e] > 0 && counts[e] > (double)maximum[e] * total + Slack) { counts[e]--; total--; changed = true; }
        }
        return changed;
    }

    /// <summary>Caps x_e at f_e and spreads the excess over the uncapped, non-fixed elements present, in proportion (water-filling).</summary>
    static void Project(double[] x, ResolvedConstraints c)
    {
        for (int round = 0; round < E; round++)
        {
            double excess = 0, free = 0;
            for (int e = 0; e < E; e++)
            {
                if (c.Maximum[e] < 1f && x[e] > c.Maximum[e]) { excess += x[e] - c.Maximum[e]; x[e] = c.Maximum[e]; }
            }
            if (excess <= 0) return;
            for (int e = 0; e < E; e++)
                if (x[e] > 0 && c.Exact[e] == 0f && x[e] < c.Maximum[e]) free += x[e];
            if (free <= 0) return; // nothing can take the excess: the counts step then finds no formula
            for (int e = 0; e < E; e++)
                if (x[e] > 0 && c.Exact[e] == 0f && x[e] < c.Maximum[e]) x[e] += excess * x[e] / free;
        }
    }

    static double Loss(double[] x, int n)
    {
        double loss = 0;
        for (int e = 0; e < E; e++)
        {
            if (x[e] == 0) continue;
            double d = x[e] - Math.Round(x[e] * n, MidpointRounding.ToEven) / n;
            loss += d * d;
        }
        return loss;
    }
}
