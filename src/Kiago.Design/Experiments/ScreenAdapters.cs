using Kiago.Chemistry;
using Kiago.Chemistry.Screening;
using Kiago.Design.Pipeline;

namespace Kiago.Design.Experiments;

/// <summary>The SMACT screening (reference §7.1) behind the optimiser's <see cref="ICandidateScreen"/> seam.</summary>
public sealed class SmactScreen(ScreeningOptions options) : ICandidateScreen
{
    public string Name => $"smact14 (at most {options.MaxElements} elements)";

    public ScreenVerdict Screen(Composition formula)
    {
        var v = Screener.Screen(formula, options);
        return new ScreenVerdict(v.Valid, v.ChargeNeutral, v.ElectronegativityOk ?? false, [.. v.Reasons.Select(r => r.Message)]);
    }
}

/// <summary>The hydride check (reference §7.2) behind <see cref="ICandidateScreen"/>; it has no electronegativity test (always true).</summary>
public sealed class HydrideScreen(HydrideScreeningOptions options) : ICandidateScreen
{
    public string Name => $"hydride (H ≥ {options.MinHydrogenFraction}, ≤ {options.MaxElements} elements, ≤ {options.MaxAtoms} atoms)";

    public ScreenVerdict Screen(Composition formula)
    {
        var v = Screener.ScreenHydride(formula, options);
        return new ScreenVerdict(v.Valid, v.ChargeNeutral, true, [.. v.Reasons.Select(r => r.Message)]);
    }
}
