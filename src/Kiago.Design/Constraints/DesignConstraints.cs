using Kiago.Chemistry;
using Kiago.Nets.Featurisers;

namespace Kiago.Design.Constraints;

/// <summary>Replace one element of the base by elements sharing an oxidation state; the rest stays fixed (paper §3.5, reference §6 ES).</summary>
public sealed record SubstitutionTarget(string Element, int? OxidationState = null);

/// <summary>
/// What the user constrains, as given (symbols, not yet checked). <see cref="Resolve"/> checks everything before any
/// compute and returns the numeric form the kernel needs, or throws <see cref="ConstraintException"/> naming the problem.
/// </summary>
public sealed record DesignConstraints
{
    /// <summary>Only these elements may be optimised (null = all of the ElemNet range).</summary>
    public IReadOnlyList<string>? Allow { get; init; }
    public IReadOnlyList<string> Deny { get; init; } = [];
    /// <summary>
    /// Fixed atom fractions (--fix El=f): the element leaves the optimised set M, so the continuous x has exactly f, and
    /// the integer formula keeps it within its rounding (see <see cref="Pipeline.FormulaBuilder"/>).
    /// </summary>
    public IReadOnlyDictionary<string, double> Fixed { get; init; } = new Dictionary<string, double>();
    /// <summary>
    /// Floors (--min El=f, the reference's x = c + (1 − Σc)·σ(…) with El still optimisable, e.g. H ≥ 0.4 for hydrides):
    /// the continuous x_El ≥ f; the integer formula is not adjusted (the hydride screen checks H ≥ 0.4 itself).
    /// </summary>
    public IReadOnlyDictionary<string, double> Minimum { get; init; } = new Dictionary<string, double>();
    /// <summary>Ceilings (--max El=f): every integer formula has n_El ≤ f·n_total (the final x is projected, then the counts).</summary>
    public IReadOnlyDictionary<string, double> Maximum { get; init; } = new Dictionary<string, double>();
    /// <summary>k, elements kept at the stage switch.</summary>
    public int MaxElements { get; init; } = 8;
    /// <summary>N-set = {MinAtoms … MaxAtoms} (inclusive).</summary>
    public int MinAtoms { get; init; } = 1;
    public int MaxAtoms { get; init; } = 199;
    public SubstitutionTarget? Substitution { get; init; }
    /// <summary>The table whose states decide which elements may substitute the target (published: SMACT 2014).</summary>
    public OxidationStateTable OxidationStates { get; init; } = OxidationStateTable.Smact14;

    /// <summary>Radioactive elements among ElemNet's inputs (Tc, Pm, Po–Ac, Th–Pu; Po, At, Rn, Fr, Ra are outside ElemNet anyway), denied by the practical preset.</summary>
    public static readonly IReadOnlyList<string> Radioactive = ["Tc", "Pm", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu"];

    /// <summary>ElemNet's 86 inputs (H…Pu without He, Ne, Ar, Po, At, Rn, Fr, Ra): the mask M_EN of the reference.</summary>
    public static readonly IReadOnlySet<int> ElemNetZ = ElemNetLayout.Elements.ToHashSet();

    public ResolvedConstraints Resolve(Composition baseComposition)
    {
        const int E = Elements.Count;
        // the reference applies the top-k mask only for k > 1, so k = 1 would silently mean "no limit": refused instead
        if (MaxElements < 2)
            throw new ConstraintException($"--max-elements must be ≥ 2 (got {MaxElements}): the element limit is applied as in the " +
                "reference, which keeps the k largest elements only for k ≥ 2 (one element is no compound)");
        if (MinAtoms < 1) throw new ConstraintException($"the smallest formula size must be ≥ 1 (got {MinAtoms})");
        if (MaxAtoms < MinAtoms) throw new ConstraintException($"--max-atoms {MaxAtoms} is below the smallest formula size {MinAtoms}: the N-set is empty");

        var allowed = new float[E];
        foreach (int z in ElemNetZ) allowed[z - 1] = 1f;
        if (Allow is not null)
        {
            var allowSet = Allow.Select(s => Lookup(s, "--allow")).ToHashSet();
            foreach (var el in allowSet.Where(el => !ElemNetZ.Contains(el.Z)))
                throw new ConstraintException($"--allow: {el.Symbol} (Z = {el.Z}) is not among ElemNet's 86 input elements (H…Pu without He, Ne, Ar, Po, At, Rn, Fr, Ra)");
            for (int i = 0; i < E; i++) if (!allowSet.Contains(Elements.ByZ(i + 1))) allowed[i] = 0f;
        }
        var deny = Deny.Select(s => Lookup(s, "--deny")).ToHashSet();
        if (Allow is not null)
            foreach (var s in Allow)
                if (deny.Contains(Lookup(s, "--allow")))
                    throw new ConstraintException($"{Lookup(s, "--allow").Symbol} is both allowed (--allow) and denied (--deny)");
        foreach (var el in deny) allowed[el.Index] = 0f;

        var fixedPart = new float[E];
        var exact = new float[E];
        var maximum = new float[E];
        Array.Fill(maximum, 1f);
        double fixedSum = 0;
        foreach (var (option, table, isExact) in new[] { ("--fix", Fixed, true), ("--min", Minimum, false) })
            foreach (var (symbol, fraction) in table.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                var el = Lookup(symbol, option);
                if (!double.IsFinite(fraction) || fraction <= 0 || fraction >= 1)
                    throw new ConstraintException($"{option} {el.Symbol}={fraction}: the fraction must lie in (0, 1)");
                if (deny.Contains(el)) throw new ConstraintException($"{option} {el.Symbol}: the element is also denied (--deny)");
                if (fixedPart[el.Index] != 0f)
                    throw new ConstraintException($"{option} {el.Symbol}: {el.Symbol} is given both --fix and --min; use one");
                fixedPart[el.Index] = (float)fraction;
                if (isExact) { exact[el.Index] = (float)fraction; allowed[el.Index] = 0f; }
                fixedSum += fraction;
            }
        foreach (var (symbol, fraction) in Maximum.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var el = Lookup(symbol, "--max");
            if (!double.IsFinite(fraction) || fraction <= 0 || fraction >= 1)
                throw new ConstraintException($"--max {el.Symbol}={fraction}: the fraction must lie in (0, 1)");
            if (exact[el.Index] > fraction)
                throw new ConstraintException($"--max {el.Symbol}={fraction} contradicts --fix {el.Symbol}={exact[el.Index]}");
            if (fixedPart[el.Index] > fraction)
                throw new ConstraintException($"--max {el.Symbol}={fraction} contradicts --min {el.Symbol}={fixedPart[el.Index]}");
            maximum[el.Index] = (float)fraction;
        }

        int? oxState = null;
        Element? target = null;
        if (Substitution is { } sub)
        {
            if (Fixed.Count > 0 || Minimum.Count > 0)
                throw new ConstraintException($"{(Fixed.Count > 0 ? "--fix" : "--min")} cannot be combined with a substitution: the fixed part is the rest of the base");
            target = Lookup(sub.Element, "--target");
            if (!baseComposition.Contains(target))
                throw new ConstraintException($"--target {target.Symbol}: the base {baseComposition} does not contain {target.Symbol}");
            if (baseComposition.Count < 2)
                throw new ConstraintException($"--target {target.Symbol}: the base {baseComposition} has nothing left to keep fixed");
            oxState = sub.OxidationState ?? DefaultOxidationState(target);
            // fixed part = the remaining atoms / (their sum + amount of the target), reference create_atomic_vectors_from_formula_dict
            double total = baseComposition.TotalAtoms;
            fixedSum = 0;
            foreach (var el in baseComposition.Elements)
            {
                if (el == target) continue;
                fixedPart[el.Index] = (float)(baseComposition[el] / total);
                fixedSum += baseComposition[el] / total;
            }
            // oxidation mask: elements whose states (SMACT 2014 by default) contain the state, minus the fixed elements
            for (int i = 0; i < E; i++)
            {
                var el = Elements.ByZ(i + 1);
                bool shares = el.OxidationStates(OxidationStates).Contains(oxState.Value);
                if (!shares || fixedPart[i] != 0f) allowed[i] = 0f;
            }
        }
        if (!(fixedSum < 1))
            throw new ConstraintException($"{(Substitution is null && Fixed.Count == 0 ? "--min" : "--fix")}: the fixed fractions sum to {fixedSum:0.######}; they must sum to less than 1");
        if (Maximum.Count > 0 && Substitution is null)
        {
            // the ceilings must leave room for a whole composition: Σ over the elements that can appear of their cap ≥ 1
            double room = 0;
            for (int i = 0; i < E; i++)
                if (allowed[i] != 0f || fixedPart[i] != 0f) room += exact[i] != 0f ? exact[i] : maximum[i];
            if (room < 1)
                throw new ConstraintException($"--max: the elements that can appear may hold at most {room:0.######} of the atoms together (fixed fractions and ceilings); no composition sums to 1");
        }

        int allowedCount = allowed.Count(a => a != 0f);
        if (allowedCount == 0)
            throw new ConstraintException(Substitution is null
                ? "no element is left to optimise: the allowed set (ElemNet's 86 elements ∩ --allow − --deny) is empty"
                : $"no element shares oxidation state {oxState:+0;-0} with {target!.Symbol} outside the fixed part and --deny");
        int reachable = Enumerable.Range(0, E).Count(i => allowed[i] != 0f || fixedPart[i] != 0f);
        if (MaxElements > reachable)
            throw new ConstraintException($"--max-elements {MaxElements} exceeds the {reachable} elements that can appear (allowed ∪ fixed)");
        var baseOutside = baseComposition.Elements.Where(el => allowed[el.Index] == 0f && fixedPart[el.Index] == 0f && el != target).ToArray();

        return new ResolvedConstraints(allowed, fixedPart, Enumerable.Range(MinAtoms, MaxAtoms - MinAtoms + 1).ToArray(),
            MaxElements, target, oxState, baseOutside)
        {
            Exact = exact,
            Maximum = maximum,
        };
    }

    /// <summary>The target's first positive pymatgen common oxidation state (La → +3), else its first positive SMACT state.</summary>
    public static int DefaultOxidationState(Element target)
    {
        foreach (int s in target.OxidationStatesPymatgenCommon) if (s > 0) return s;
        foreach (int s in target.OxidationStatesSmact14) if (s > 0) return s;
        throw new ConstraintException($"--target {target.Symbol}: it has no positive oxidation state; give one with --ox");
    }

    static Element Lookup(string symbol, string option)
    {
        var s = symbol.Trim();
        if (Elements.TryGet(s, out var el)) return el;
        throw new ConstraintException($"{option}: unknown element '{symbol}'");
    }
}

/// <summary>The checked, numeric constraints for one base.</summary>
public sealed record ResolvedConstraints(
    float[] Allowed,
    float[] Fixed,
    int[] NSet,
    int MaxElements,
    Element? SubstitutionTarget,
    int? SubstitutionOxidationState,
    IReadOnlyList<Element> BaseElementsMaskedOut)
{
    /// <summary>--fix fractions by Z − 1 (0 = not fixed); these elements are outside <see cref="Allowed"/>.</summary>
    public float[] Exact { get; init; } = new float[Elements.Count];
    /// <summary>--max ceilings by Z − 1 (1 = none).</summary>
    public float[] Maximum { get; init; } = Enumerable.Repeat(1f, Elements.Count).ToArray();

    public bool HasExact => Exact.Any(f => f != 0f);
    public bool HasMaximum => Maximum.Any(f => f < 1f);
}

/// <summary>Contradictory or impossible constraints, found before any compute.</summary>
public sealed class ConstraintException(string message) : InputException(message);
