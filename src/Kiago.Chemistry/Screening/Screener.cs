using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;

namespace Kiago.Chemistry.Screening;

/// <summary>
/// Charge-neutrality and electronegativity screening exactly as the published KIAGO evaluation applies it
/// (kiago-reference.md §7.1 standard, §7.2 hydride). Thread-safe; the *Many methods run in parallel and return
/// verdicts in input order.
/// </summary>
public static class Screener
{
    /// <summary>Counts at most this large run the search in 64-bit arithmetic (|Σ ox·n| ≤ 8·9·2⁵⁰ &lt; 2⁶³).</summary>
    static readonly BigInteger LongPathLimit = BigInteger.One << 50;

    /// <summary>
    /// KIAGO's `ElectronegativityCheck.check`: reduce (gcd of integral amounts), element-count limit,
    /// limit_denominator integerisation and gcd, then SMACT's smact_validity (single element and all-metal
    /// shortcuts, charge neutrality with one state per element, Pauling test).
    /// </summary>
    public static ScreeningVerdict Screen(Composition composition, ScreeningOptions? options = null)
    {
        options ??= ScreeningOptions.Kiago;
        var reduced = composition.Reduce();
        var elements = reduced.Elements;
        if (elements.Count > options.MaxElements)
            return new(false, false, false, false, ScreeningShortcut.None, null, null,
                [new(ScreeningRule.TooManyElements, null, null, $"{elements.Count} elements; at most {options.MaxElements} allowed")]);

        var counts = reduced.IntegerCounts(options.MaxDenominator);
        var formula = string.Concat(elements.Select((e, i) => e.Symbol + counts[i].ToString(CultureInfo.InvariantCulture)));
        if (elements.Count == 1)
            return options.SingleElementShortcut ? Pass(ScreeningShortcut.SingleElement, formula, null)
                : new(false, false, false, false, ScreeningShortcut.None, formula, null,
                    [new(ScreeningRule.SingleElement, elements[0].Symbol, null, $"{elements[0].Symbol} alone is an element, not a compound")]);
        if (options.AllMetalShortcut && elements.All(e => e.IsSmactMetal))
            return Pass(ScreeningShortcut.AllMetals, formula, null);

        var states = elements.Select(e => e.OxidationStates(options.OxidationStates).ToArray()).ToArray();
        var stateless = elements.Where((e, i) => states[i].Length == 0).ToArray();
        if (stateless.Length > 0)
            return NotNeutral(formula, [.. stateless.Select(e => new ScreeningReason(ScreeningRule.NoOxidationStates, e.Symbol, null,
                $"{e.Symbol} has no oxidation states in the {options.OxidationStates} table"))]);

        var en = elements.Select(e => (options.Electronegativity == ElectronegativityScale.Smact ? e.PaulingSmact : e.PaulingPymatgen) ?? double.NaN).ToArray();
        bool small = counts.All(c => BigInteger.Abs(c) <= LongPathLimit);
        var (neutral, witness, firstNeutral, pair) = small
            ? Search(counts.Select(c => (long)c).ToArray(), states, en)
            : Search(counts, states, en);
        if (!neutral)
            return NotNeutral(formula, []);
        if (witness is not null)
            return Pass(ScreeningShortcut.None, formula, witness);

        var (a, b) = (elements[pair.I], elements[pair.J]);
        string Describe(int k) => $"{elements[k].Symbol}({Signed(firstNeutral![k])}, χ {Chi(en[k])})";
        var reason = new ScreeningReason(ScreeningRule.Electronegativity, a.Symbol, b.Symbol,
            $"every charge-neutral assignment fails the Pauling test; first: {Describe(pair.I)} with {Describe(pair.J)}");
        return new(false, true, true, false, ScreeningShortcut.None, formula, null, [reason]);
    }

    static (bool, int[]?, int[]?, (int I, int J)) Search<T>(T[] counts, int[][] states, double[] en) where T : INumber<T>
    {
        var s = ChargeSearch<T>.Run(counts, states, en);
        return (s.Neutral, s.Witness, s.FirstNeutral, s.FirstFailedPair);
    }

    static ScreeningVerdict Pass(ScreeningShortcut shortcut, string formula, int[]? witness) =>
        new(true, true, true, true, shortcut, formula, witness, []);

    static ScreeningVerdict NotNeutral(string formula, ScreeningReason[] causes) =>
        new(false, true, false, false, ScreeningShortcut.None, formula, null,
            [.. causes, new(ScreeningRule.NotChargeNeutral, null, null, $"no oxidation-state assignment makes {formula} neutral")]);

    static string Signed(int ox) => ox > 0 ? "+" + ox : ox.ToString(CultureInfo.InvariantCulture);
    static string Chi(double en) => double.IsNaN(en) ? "none" : en.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>
    /// KIAGO's hydride check (§7.2): amounts rounded half-to-even (no gcd); neutral when per-atom states can sum to 0,
    /// with at most MaxElements elements and MaxAtoms atoms; valid when MinHydrogenFraction ≤ n_H/Σn &lt; 1 and
    /// Σn ≤ MaxAtoms. Passed = valid ∧ neutral (the formation-energy test is the caller's).
    /// </summary>
    public static ScreeningVerdict ScreenHydride(Composition composition, HydrideScreeningOptions? options = null)
    {
        options ??= HydrideScreeningOptions.Kiago;
        var elements = composition.Elements;
        var counts = composition.Amounts.Select(a => (long)Math.Round(a, MidpointRounding.ToEven)).ToArray();
        long total = counts.Sum();
        var formula = string.Concat(elements.Select((e, i) => e.Symbol + counts[i].ToString(CultureInfo.InvariantCulture)));
        var reasons = new List<ScreeningReason>();

        bool fewElements = elements.Count <= options.MaxElements;
        if (!fewElements)
            reasons.Add(new(ScreeningRule.TooManyElements, null, null, $"{elements.Count} elements; at most {options.MaxElements} allowed"));
        bool fewAtoms = total <= options.MaxAtoms;
        if (!fewAtoms)
            reasons.Add(new(ScreeningRule.TooManyAtoms, null, null, $"{total} atoms in {formula}; at most {options.MaxAtoms} allowed"));
        long hydrogen = counts.Where((c, i) => elements[i].Z == 1).Sum();
        double fraction = total > 0 ? (double)hydrogen / total : 0;
        bool hydro = total > 0 && fraction >= options.MinHydrogenFraction && fraction < 1.0;
        if (!hydro)
            reasons.Add(new(ScreeningRule.HydrogenFraction, "H", null,
                $"hydrogen fraction {fraction.ToString("0.###", CultureInfo.InvariantCulture)} outside [{options.MinHydrogenFraction.ToString(CultureInfo.InvariantCulture)}, 1)"));

        bool neutral = false;
        if (fewElements && fewAtoms)
        {
            var states = elements.Select(e => e.OxidationStates(options.OxidationStates)).ToArray();
            foreach (var (e, i) in elements.Select((e, i) => (e, i)))
                if (states[i].Count == 0 && counts[i] > 0)
                    reasons.Add(new(ScreeningRule.NoOxidationStates, e.Symbol, null, $"{e.Symbol} has no oxidation states in the {options.OxidationStates} table"));
            neutral = HydrideNeutrality.IsNeutral(states.Select((s, i) => HydrideNeutrality.Totals(s, counts[i])));
        }
        if (!neutral)
            reasons.Add(new(ScreeningRule.NotChargeNeutral, null, null, $"no per-atom oxidation states make {formula} neutral"));
        bool valid = hydro && fewAtoms && elements.Count > 0;
        return new(valid && neutral, valid, neutral, null, ScreeningShortcut.None, formula, null, reasons);
    }

    /// <summary>Screens many compositions in parallel; verdicts in input order.</summary>
    public static ScreeningVerdict[] ScreenMany(IReadOnlyList<Composition> compositions, ScreeningOptions? options = null,
        int maxDegreeOfParallelism = -1) =>
        Map(compositions, c => Screen(c, options), maxDegreeOfParallelism);

    /// <summary>Hydride screening of many compositions in parallel; verdicts in input order.</summary>
    public static ScreeningVerdict[] ScreenHydrideMany(IReadOnlyList<Composition> compositions, HydrideScreeningOptions? options = null,
        int maxDegreeOfParallelism = -1) =>
        Map(compositions, c => ScreenHydride(c, options), maxDegreeOfParallelism);

    static ScreeningVerdict[] Map(IReadOnlyList<Composition> compositions, Func<Composition, ScreeningVerdict> screen, int parallelism)
    {
        var verdicts = new ScreeningVerdict[compositions.Count];
        if (verdicts.Length == 0) return verdicts;
        var ranges = Partitioner.Create(0, compositions.Count, Math.Max(64, compositions.Count / (8 * Environment.ProcessorCount) + 1));
        Parallel.ForEach(ranges, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, range =>
        {
            for (int i = range.Item1; i < range.Item2; i++)
                verdicts[i] = screen(compositions[i]);
        });
        return verdicts;
    }
}
