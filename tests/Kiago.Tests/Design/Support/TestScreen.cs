using Kiago.Chemistry;
using Kiago.Design.Pipeline;

namespace Kiago.Tests.Design.Support;

/// <summary>A simple deterministic screen for pipeline tests (the real SMACT screening is tested under Chemistry/).</summary>
public sealed class TestScreen : ICandidateScreen
{
    public string Name => "test";

    public ScreenVerdict Screen(Composition formula)
    {
        var reasons = new List<string>();
        bool valid = formula.Count < 9;
        if (!valid) reasons.Add($"{formula.Count} elements (≥ 9)");
        bool neutral = formula.Contains(Elements.Get("O"));
        if (!neutral) reasons.Add("no O");
        return new ScreenVerdict(valid, neutral, true, reasons);
    }
}
