namespace Kiago.Chemistry.Screening;

/// <summary>Which Pauling electronegativity the Pauling test reads.</summary>
public enum ElectronegativityScale
{
    /// <summary>SMACT 2.5.5 `pauling_eneg` (what KIAGO's screening used).</summary>
    Smact,
    /// <summary>pymatgen `Element.X`.</summary>
    Pymatgen,
}

/// <summary>
/// The published KIAGO screening (kiago-reference.md §7.1). Defaults are KIAGO's: SMACT-2014 states, SMACT
/// electronegativities, at most 8 elements (`len &lt; NUM_MAX_ELEMENSTS = 9`), alloy shortcut on, limit_denominator(10⁶).
/// The rule-based and SuperDiff baselines used <c>MaxElements = 9</c>.
/// </summary>
public sealed record ScreeningOptions
{
    public OxidationStateTable OxidationStates { get; init; } = OxidationStateTable.Smact14;
    public ElectronegativityScale Electronegativity { get; init; } = ElectronegativityScale.Smact;
    /// <summary>Most distinct elements a valid composition may have (inclusive).</summary>
    public int MaxElements { get; init; } = 8;
    /// <summary>SMACT's include_alloys: a composition of `smact.metals` only passes without further tests.</summary>
    public bool AllMetalShortcut { get; init; } = true;
    /// <summary>SMACT's single-element shortcut (an element alone passes). Off, an element alone fails as
    /// <see cref="ScreeningRule.SingleElement"/>: it is not a compound, so it cannot be a new one.</summary>
    public bool SingleElementShortcut { get; init; } = true;
    /// <summary>Denominator bound of the Fraction.limit_denominator integerisation.</summary>
    public long MaxDenominator { get; init; } = 1_000_000;

    public static ScreeningOptions Kiago { get; } = new();
}

/// <summary>
/// KIAGO's hydride (HSC) screening (kiago-reference.md §7.2): amounts rounded half-to-even, every atom may take any
/// allowed state, at most <see cref="MaxElements"/> elements and <see cref="MaxAtoms"/> atoms, and
/// <see cref="MinHydrogenFraction"/> ≤ n_H / Σn &lt; 1.
/// </summary>
public sealed record HydrideScreeningOptions
{
    public OxidationStateTable OxidationStates { get; init; } = OxidationStateTable.Smact14;
    public int MaxElements { get; init; } = 3;
    public int MaxAtoms { get; init; } = 15;
    public double MinHydrogenFraction { get; init; } = 0.4;

    public static HydrideScreeningOptions Kiago { get; } = new();
}
