using Kiago.Chemistry;

namespace Kiago.Chemistry.Hull;

/// <summary>
/// The reference compositions of a hull (e.g. the formulas of ../shared/data/formation_energy_mp.csv), indexed by
/// chemical system. Kept: multi-element compositions, each atom-fraction composition once (first occurrence), in
/// order; elements are terminal entries at 0 eV/atom and need no entry.
/// </summary>
public sealed class HullReferenceSet
{
    readonly List<Composition> compositions = [];
    readonly Dictionary<string, List<int>> bySystem = new(StringComparer.Ordinal);

    public string Source { get; }
    public int Count => compositions.Count;

    HullReferenceSet(string source) => Source = source;

    /// <summary>
    /// A reference set from <paramref name="compositions"/> (e.g. one column of a CSV): multi-element compositions are
    /// kept, each atom-fraction composition once (first occurrence), in the given order.
    /// </summary>
    public static HullReferenceSet From(IEnumerable<Composition> compositions, string source)
    {
        var set = new HullReferenceSet(source);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in compositions)
            if (c.Count > 1 && seen.Add(c.Normalise().ToCanonicalString())) set.Add(c);
        return set;
    }

    void Add(Composition c)
    {
        var key = SystemKey(c.Elements);
        if (!bySystem.TryGetValue(key, out var list)) bySystem[key] = list = [];
        list.Add(compositions.Count);
        compositions.Add(c);
    }

    /// <summary>The references whose elements all lie in <paramref name="system"/>, in file order.</summary>
    public IReadOnlyList<Composition> Inside(IReadOnlyCollection<Element> system)
    {
        var elements = system.Distinct().OrderBy(e => e.Z).ToArray();
        IEnumerable<int> hits;
        if (elements.Length <= 16)
        {
            // every sub-system of ≥ 2 elements is one dictionary look-up (247 for 8 elements)
            var found = new List<int>();
            for (int mask = 1; mask < 1 << elements.Length; mask++)
            {
                if (int.PopCount(mask) < 2) continue;
                var sub = elements.Where((_, i) => (mask >> i & 1) != 0).ToArray();
                if (bySystem.TryGetValue(SystemKey(sub), out var list)) found.AddRange(list);
            }
            hits = found;
        }
        else
        {
            var set = elements.ToHashSet();
            hits = Enumerable.Range(0, compositions.Count).Where(i => compositions[i].Elements.All(set.Contains));
        }
        return hits.Order().Select(i => compositions[i]).ToList();
    }

    /// <summary>"Fe-O": the elements in Z order (a composition's chemical system).</summary>
    public static string SystemKey(IEnumerable<Element> elements) => string.Join("-", elements.OrderBy(e => e.Z).Select(e => e.Symbol));
}
