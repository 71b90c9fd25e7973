using Kiago.Chemistry;
using Kiago.Chemistry.Screening;

namespace Kiago.Design.Pipeline;

/// <summary>
/// Chemistry screening of integer formulas (reference §7.1 / §7.2): valid (element count), charge-neutral and
/// electronegativity-ordered under some oxidation-state assignment, with reasons for every failure.
/// </summary>
public interface ICandidateScreen
{
    /// <summary>Short name written to the manifest, e.g. "kiago-smact14".</summary>
    string Name { get; }
    ScreenVerdict Screen(Composition formula);

    /// <summary>Verdicts in input order (implementations may run in parallel; the default is sequential).</summary>
    IReadOnlyList<ScreenVerdict> ScreenMany(IReadOnlyList<Composition> formulas) => formulas.Select(Screen).ToList();
}

public sealed record ScreenVerdict(bool Valid, bool Neutral, bool Electronegativity, IReadOnlyList<string> Reasons);

/// <summary>The published KIAGO screening (Kiago.Chemistry's <see cref="Screener"/>): standard, or the hydride variant.</summary>
/// <remarks><paramref name="threads"/>: most threads the screening runs on (--threads); null = all cores.
/// <paramref name="singleElements"/> false (the practical preset) fails an element alone instead of SMACT's pass.</remarks>
public sealed class ChemistryScreen(bool hydride = false, OxidationStateTable states = OxidationStateTable.Smact14, int? threads = null,
    bool singleElements = true) : ICandidateScreen
{
    string Table => states switch { OxidationStateTable.PymatgenCommon => "pymatgen-common", OxidationStateTable.PymatgenIcsd => "icsd", _ => "smact14" };

    public string Name => hydride ? $"kiago-hydride ({Table}, per-atom valence, ≤3 elements, ≤15 atoms, H ≥ 0.4)" : $"kiago ({Table}, < 9 elements, Pauling{(singleElements ? "" : ", single elements fail")})";

    public ScreenVerdict Screen(Composition formula) => ScreenMany([formula])[0];

    public IReadOnlyList<ScreenVerdict> ScreenMany(IReadOnlyList<Composition> formulas)
    {
        var verdicts = hydride
            ? Screener.ScreenHydrideMany(formulas, new HydrideScreeningOptions { OxidationStates = states }, threads ?? -1)
            : Screener.ScreenMany(formulas, new ScreeningOptions { OxidationStates = states, SingleElementShortcut = singleElements }, threads ?? -1);
        return verdicts.Select(v => new ScreenVerdict(v.Valid, v.ChargeNeutral, v.ElectronegativityOk ?? true,
            v.Reasons.Select(r => r.Message).ToList())).ToList();
    }
}
