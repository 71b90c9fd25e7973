using System.Collections.Frozen;
using Kiago.Chemistry;

namespace Kiago.Design.Baselines;

/// <summary>
/// The reference's <c>oxidation_dict</c>: for each oxidation state, the elements H…Rn (Z ≤ 86, the first 86 elements)
/// whose SMACT 2.5.5 default states contain it, in Z order.
/// </summary>
public static class OxidationSubstituents
{
    public const int MaxZ = 86;

    static readonly FrozenDictionary<int, Element[]> ByState = Elements.All
        .Where(e => e.Z <= MaxZ)
        .SelectMany(e => e.OxidationStatesSmact14.Select(s => (State: s, Element: e)))
        .GroupBy(p => p.State)
        .ToFrozenDictionary(g => g.Key, g => g.Select(p => p.Element).OrderBy(e => e.Z).ToArray());

    /// <summary>Elements with <paramref name="state"/> (empty when none).</summary>
    public static IReadOnlyList<Element> WithState(int state) => ByState.TryGetValue(state, out var list) ? list : [];
}
