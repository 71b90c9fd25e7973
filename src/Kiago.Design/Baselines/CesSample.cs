using Kiago.Chemistry;
using Kiago.Design.Experiments;

namespace Kiago.Design.Baselines;

/// <summary>
/// One baseline formula and how it was made: <see cref="Replaced"/> (its state <see cref="OxidationState"/>) was removed
/// and <see cref="Substituents"/>, all sharing that state, were added; everything was multiplied by <see cref="Cells"/>.
/// </summary>
public sealed record CesSample(Composition Composition, Element Replaced, int OxidationState, int Cells, IReadOnlyList<Element> Substituents);

/// <summary>The samples of one base, or why the base was skipped (<see cref="SkipReason"/>, no samples).</summary>
public sealed record CesBaseResult(BaseMaterial Base, IReadOnlyList<CesSample> Samples, string? SkipReason)
{
    public bool Skipped => SkipReason is not null;
}
