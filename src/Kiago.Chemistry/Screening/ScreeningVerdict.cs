namespace Kiago.Chemistry.Screening;

/// <summary>Machine-readable name of a screening rule that failed.</summary>
public enum ScreeningRule
{
    /// <summary>More distinct elements than allowed.</summary>
    TooManyElements,
    /// <summary>More atoms than allowed (hydride screening).</summary>
    TooManyAtoms,
    /// <summary>An element has no oxidation states in the chosen table, so no neutral assignment exists.</summary>
    NoOxidationStates,
    /// <summary>No assignment of oxidation states sums to zero.</summary>
    NotChargeNeutral,
    /// <summary>Neutral assignments exist but every one has a cation at least as electronegative as an anion.</summary>
    Electronegativity,
    /// <summary>Hydrogen fraction outside [min, 1) (hydride screening).</summary>
    HydrogenFraction,
    /// <summary>An element alone, with the single-element shortcut off (the practical preset).</summary>
    SingleElement,
}

/// <summary>Why a composition passed without the charge search.</summary>
public enum ScreeningShortcut { None, SingleElement, AllMetals }

/// <summary>One failed rule: which, for which element(s) where it is about elements, and a readable message.</summary>
public sealed record ScreeningReason(ScreeningRule Rule, string? Element, string? OtherElement, string Message)
{
    public override string ToString() => Message;
}

/// <summary>
/// The outcome for one composition. <see cref="Passed"/> = valid ∧ neutral ∧ electronegativity (standard) or
/// valid ∧ neutral (hydride; <see cref="ElectronegativityOk"/> is null there). <see cref="Formula"/> is the integer
/// formula the charge search used; <see cref="OxidationStates"/> is a passing assignment (per element of
/// <see cref="Formula"/>; per atom of each element for hydrides it is null).
/// </summary>
public sealed record ScreeningVerdict(
    bool Passed,
    bool Valid,
    bool ChargeNeutral,
    bool? ElectronegativityOk,
    ScreeningShortcut Shortcut,
    string? Formula,
    IReadOnlyList<int>? OxidationStates,
    IReadOnlyList<ScreeningReason> Reasons)
{
    /// <summary>Reasons as one line: "NotChargeNeutral; Electronegativity(Cu,O)".</summary>
    public string ReasonCodes => string.Join("; ", Reasons.Select(r =>
        r.Element is null ? r.Rule.ToString() : $"{r.Rule}({r.Element}{(r.OtherElement is null ? "" : "," + r.OtherElement)})"));
}
