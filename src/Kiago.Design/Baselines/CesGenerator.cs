using Kiago.Chemistry;
using Kiago.Design.Experiments;

namespace Kiago.Design.Baselines;

/// <summary>
/// The conventional element-substitution baseline (reference §8, <c>rule_based/generate_and_eval.py</c>): random
/// replacement of one element of a base by random elements that share one of its oxidation states, with integer
/// amounts in a random supercell (Normal, Hydride) or 4-decimal shares of the target's amount (Substitution).
/// Seeded and deterministic: one <see cref="CesRandom"/> stream per base.
/// <para>Where we differ from the reference (documented in docs/EXPERIMENTS.md):</para>
/// <list type="bullet">
/// <item>The reference picks the replaced element with the unseeded global np.random (retrying up to 100 times until a
/// metal comes up); we pick uniformly among the base's metals from our seeded stream, which is the same distribution.</item>
/// <item>Elements for which no supercell exists (a fractional amount such as Fe0.02 with no n·0.02 integral below the
/// atom limit) are not offered; the reference skipped such bases outright (Bi–Ca–Cu–Fe–O–Sr).</item>
/// <item>A base above the atom or element limit is skipped with a reason (the reference skipped H–Th by hand).</item>
/// <item>When no divisor of the substituted atom count fits the element budget, one substituent is used.</item>
/// </list>
/// </summary>
public static class CesGenerator
{
    /// <summary>Tolerance for "this amount is an integer" (amounts come from JSON decimals).</summary>
    const double IntegerTolerance = 1e-9;

    /// <summary>4-decimal grid of the Substitution mode's partition.</summary>
    const int SubstitutionGrid = 10_000;

    /// <summary>One replacement the base allows: an element, its usable states and supercell multipliers.</summary>
    sealed record Option(Element Element, double Amount, int[] States, int[] Cells);

    public static IReadOnlyList<CesBaseResult> Generate(IReadOnlyList<BaseMaterial> bases, CesOptions options) =>
        [.. bases.Select((b, i) => Generate(b, i, options))];

    /// <summary>All samples of one base; <paramref name="baseIndex"/> selects the random stream.</summary>
    public static CesBaseResult Generate(BaseMaterial material, int baseIndex, CesOptions options)
    {
        options.Validate();
        var composition = material.Composition;
        int maxAtoms = options.EffectiveMaxAtoms, maxElements = options.EffectiveMaxElements;
        if (composition.Count > maxElements)
            return Skip(material, $"base has {composition.Count} elements, more than the limit of {maxElements}");
        if (composition.TotalAtoms > maxAtoms)
            return Skip(material, $"base has {composition.TotalAtoms:R} atoms, more than the limit of {maxAtoms}");
        var rng = CesRandom.ForBase(options.Seed, baseIndex);
        return options.Mode == CesMode.Substitution
            ? GenerateSubstitution(material, options, rng)
            : GenerateSupercell(material, options, rng);
    }

    static CesBaseResult GenerateSupercell(BaseMaterial material, CesOptions options, CesRandom rng)
    {
        var composition = material.Composition;
        var offered = options.Mode == CesMode.Hydride
            ? composition.Elements.Where(e => e.Symbol != "H").Take(1)
            : composition.Elements.Where(e => e.IsSmactMetal);
        var eligible = new List<Option>();
        var refusals = new List<string>();
        foreach (var element in offered)
        {
            double amount = composition[element];
            var states = element.OxidationStatesPymatgenCommon.Where(s => OxidationSubstituents.WithState(s).Count > 0).ToArray();
            var cells = SupercellMultipliers(composition.TotalAtoms, amount, options.EffectiveMaxAtoms);
            if (states.Length == 0) refusals.Add($"{element} has no common oxidation state with substituents");
            else if (cells.Length == 0) refusals.Add($"{element}{amount:R} has no whole-atom supercell below {options.EffectiveMaxAtoms} atoms");
            else eligible.Add(new Option(element, amount, states, cells));
        }
        if (eligible.Count == 0)
        {
            var what = options.Mode == CesMode.Hydride ? "no non-H element to replace" : "no metal (smact.metals) to replace";
            return Skip(material, refusals.Count == 0 ? what : string.Join("; ", refusals));
        }

        var samples = new CesSample[options.Samples];
        for (int s = 0; s < samples.Length; s++)
        {
            var option = rng.Pick(eligible);
            int state = rng.Pick(option.States);
            int cells = rng.Pick(option.Cells);
            var candidates = OxidationSubstituents.WithState(state);
            var remaining = composition.Elements.Where(e => e != option.Element).ToArray();
            int atoms = (int)Math.Round(cells * option.Amount);
            int budget = Math.Min(candidates.Count, options.EffectiveMaxElements - remaining.Length);
            var divisors = Enumerable.Range(1, Math.Max(0, Math.Min(atoms, budget - 1))).Where(d => atoms % d == 0).ToArray();
            int parts = divisors.Length == 0 ? 1 : rng.Pick(divisors);
            var shares = Partition(rng, parts, atoms);
            var chosen = rng.Choose(candidates, parts)[..shares.Length]; // the reference zips: surplus elements go unused
            var terms = remaining.Select(e => KeyValuePair.Create(e, composition[e] * cells))
                .Concat(chosen.Select((e, i) => KeyValuePair.Create(e, (double)shares[i])));
            samples[s] = new CesSample(Composition.FromAmounts(terms), option.Element, state, cells, chosen);
        }
        return new CesBaseResult(material, samples, null);
    }

    static CesBaseResult GenerateSubstitution(BaseMaterial material, CesOptions options, CesRandom rng)
    {
        if (material.Substitution is not { } spec)
            return Skip(material, "no substitution target (give sustitute_target, substitution_ox_state, val_of_atom and remain_atom_dict, or --target and --ox-state)");
        var remaining = spec.Remaining;
        var candidates = OxidationSubstituents.WithState(spec.OxidationState).Where(e => !remaining.Contains(e)).ToArray();
        if (candidates.Length == 0)
            return Skip(material, $"no element outside the fixed part has oxidation state {spec.OxidationState:+0;-0}");
        int budget = options.EffectiveMaxElements - remaining.Count;
        if (budget < 1)
            return Skip(material, $"the fixed part has {remaining.Count} elements: no room below the limit of {options.EffectiveMaxElements}");
        if (remaining.TotalAtoms + spec.Amount > options.EffectiveMaxAtoms)
            return Skip(material, $"base has {remaining.TotalAtoms + spec.Amount:R} atoms, more than the limit of {options.EffectiveMaxAtoms}");

        var samples = new CesSample[options.Samples];
        for (int s = 0; s < samples.Length; s++)
        {
            // rng.integers(1, 10 − |remaining|), capped by the candidate count (numpy's choice would raise).
            int parts = Math.Min(budget > 1 ? rng.NextInt(1, budget) : 1, candidates.Length);
            var shares = Partition(rng, parts, SubstitutionGrid);
            var chosen = rng.Choose(candidates, parts)[..shares.Length];
            var terms = remaining.Elements.Select(e => KeyValuePair.Create(e, remaining[e]))
                .Concat(chosen.Select((e, i) => KeyValuePair.Create(e, spec.Amount * shares[i] / SubstitutionGrid)));
            samples[s] = new CesSample(Composition.FromAmounts(terms), spec.Target, spec.OxidationState, 1, chosen);
        }
        return new CesBaseResult(material, samples, null);
    }

    /// <summary>
    /// The reference's random partition of <paramref name="total"/> units into at most <paramref name="parts"/>
    /// positive integer shares: parts − 1 uniform cut points in [0, 1], plus 0 and 1, scaled, rounded half-to-even
    /// (numpy's round), deduplicated and sorted; the consecutive differences are the shares (coinciding cuts merge).
    /// </summary>
    public static int[] Partition(CesRandom rng, int parts, int total)
    {
        var cuts = new SortedSet<long> { 0, total };
        for (int i = 0; i < parts - 1; i++)
            cuts.Add((long)Math.Round(rng.NextDouble() * total, MidpointRounding.ToEven));
        var points = cuts.ToArray();
        var shares = new int[points.Length - 1];
        for (int i = 0; i < shares.Length; i++) shares[i] = (int)(points[i + 1] - points[i]);
        return shares;
    }

    /// <summary>
    /// Supercell multipliers n the reference may draw: for an integral amount, 1 … ⌊max/Σ⌋ − 1 (rng.integers'
    /// exclusive bound), or just 1 when that range is empty; otherwise every n with Σ·n &lt; max and n·amount integral.
    /// </summary>
    public static int[] SupercellMultipliers(double baseAtoms, double amount, int maxAtoms)
    {
        if (IsIntegral(amount))
        {
            int bound = (int)Math.Floor(maxAtoms / baseAtoms);
            return bound > 1 ? [.. Enumerable.Range(1, bound - 1)] : [1];
        }
        var list = new List<int>();
        for (int n = 1; baseAtoms * n < maxAtoms; n++)
            if (IsIntegral(n * amount)) list.Add(n);
        return [.. list];
    }

    static bool IsIntegral(double value) => Math.Abs(value - Math.Round(value)) < IntegerTolerance;

    static CesBaseResult Skip(BaseMaterial material, string reason) => new(material, [], reason);
}
