using Kiago.Chemistry;

namespace Kiago.Design.Pipeline;

/// <summary>How the substituents are scaled to sum to the target's amount (reference §7.1 step 1, §11 item 10).</summary>
public enum SubstitutionScaling
{
    /// <summary>Default: every substituent × val / Σ_sub once (exact before the 4-decimal rounding).</summary>
    Single,
    /// <summary>The published code's quirk: ratio = 1 − (Σ_sub − val)/val, applied twice to every substituent but the last.</summary>
    ReferenceDouble,
}

/// <summary>
/// The element-substitution output formula, the published code's <c>integerize_atom_dict</c>: from the continuous
/// amounts x·N*, rescale so the fixed atoms match the base's remaining amounts, drop them, scale the substituents to
/// sum to the target's amount val, round them to 4 decimals (the last absorbs the remainder so Σ_sub = val), and put
/// the fixed atoms back exactly. E.g. LaFeAsO with La substituted → <c>Y0.2851Ce0.0565Nd0.6584Fe1As1O1</c>.
/// </summary>
public static class SubstitutionFormula
{
    /// <summary>Decimals the substituent amounts are rounded to (the reference's <c>round(v, 4)</c>).</summary>
    public const int Decimals = 4;
    /// <summary>The reference asserts the other fixed atoms agree with the last one's rescaling to this (absolute).</summary>
    public const double FixedTolerance = 1e-3;

    /// <summary>
    /// <paramref name="amounts"/>: continuous amounts by Z − 1 (x·N*, any positive scale works: it is rescaled).
    /// <paramref name="remaining"/>: the base without the target (e.g. Fe1As1O1); <paramref name="val"/>: the target's amount.
    /// Substituents (elements outside <paramref name="remaining"/>) print first in Z order, then the fixed atoms in the
    /// base's order. Returns null when no substituent has a positive amount or the last fixed atom's amount is zero.
    /// Throws when the fixed atoms are not in the base's proportions (the reference's assertion: a kernel bug).
    /// </summary>
    public static Composition? Integerize(ReadOnlySpan<double> amounts, Composition remaining, double val,
        SubstitutionScaling scaling = SubstitutionScaling.Single)
    {
        if (remaining.Count == 0) throw new ArgumentException("the fixed part is empty", nameof(remaining));
        if (!(val > 0)) throw new ArgumentOutOfRangeException(nameof(val), val, "the target's amount must be > 0");

        // 1. rescale so the last fixed atom matches its base amount; the others must then agree
        var last = remaining.Elements[^1];
        double lastAmount = amounts[last.Index];
        if (!(lastAmount > 0)) return null;
        double scale = remaining[last] / lastAmount;
        foreach (var el in remaining.Elements)
        {
            double deviation = Math.Abs(amounts[el.Index] * scale - remaining[el]);
            if (!(deviation < FixedTolerance))
                throw new InvalidOperationException(
                    $"substitution: fixed {el.Symbol} is {amounts[el.Index] * scale} after rescaling, expected {remaining[el]} (off by {deviation}; the fixed part was not kept)");
        }

        // 2. drop the fixed atoms; the substituents in Z order
        var subs = new List<(Element Element, double Amount)>();
        for (int i = 0; i < amounts.Length; i++)
        {
            var el = Elements.ByZ(i + 1);
            if (amounts[i] > 0 && !remaining.Contains(el)) subs.Add((el, amounts[i] * scale));
        }
        if (subs.Count == 0) return null;
        double sum = subs.Sum(s => s.Amount);

        // 3. scale the substituents to sum to val
        if (scaling == SubstitutionScaling.Single)
            for (int i = 0; i < subs.Count; i++) subs[i] = (subs[i].Element, subs[i].Amount * (val / sum));
        else
        {
            double ratio = 1 - (sum - val) / val;
            for (int i = 0; i < subs.Count; i++)
                subs[i] = (subs[i].Element, subs[i].Amount * (i < subs.Count - 1 ? ratio * ratio : ratio));
        }

        // 4. round to 4 decimals; the last absorbs the remainder (Σ_sub = val up to the double sum of 4-decimal values)
        var rounded = new double[subs.Count];
        double others = 0;
        for (int i = 0; i < subs.Count - 1; i++)
        {
            rounded[i] = Math.Round(subs[i].Amount, Decimals, MidpointRounding.ToEven);
            others += rounded[i];
        }
        rounded[^1] = Math.Round(val - others, Decimals, MidpointRounding.ToEven);
        if (rounded[^1] <= 0 && subs.Count > 1)
        {
            // Deviation from the reference (which drops it and so misses val): a tiny last substituent that the others'
            // rounding pushed to ≤ 0 is dropped, and the largest substituent absorbs the remainder instead.
            rounded[^1] = 0;
            int largest = 0;
            for (int i = 1; i < subs.Count - 1; i++) if (rounded[i] > rounded[largest]) largest = i;
            double rest = 0;
            for (int i = 0; i < subs.Count - 1; i++) if (i != largest) rest += rounded[i];
            rounded[largest] = Math.Round(val - rest, Decimals, MidpointRounding.ToEven);
        }

        // 5. the fixed atoms exactly; entries ≤ 0 dropped
        var terms = new List<KeyValuePair<Element, double>>();
        for (int i = 0; i < subs.Count; i++) if (rounded[i] > 0) terms.Add(KeyValuePair.Create(subs[i].Element, rounded[i]));
        if (terms.Count == 0) return null;
        foreach (var el in remaining.Elements) terms.Add(KeyValuePair.Create(el, remaining[el]));
        return Composition.FromAmounts(terms);
    }
}
