using Kiago.Chemistry;

namespace Kiago.Design.Pipeline;

/// <summary>
/// Chemistry screening of one integer formula (reference §7.1): valid (element count), charge-neutral and
/// electronegativity-ordered under some oxidation-state assignment, with reasons for every failure.
/// </summary>
public interface ICandidateScreen
{
    /// <summary>Short name written to the manifest, e.g. "smact14".</summary>
    string Name { get; }
    ScreenVerdict Screen(Composition formula);
}

public sealed record ScreenVerdict(bool Valid, bool Neutral, bool Electronegativity, IReadOnlyList<string> Reasons);
