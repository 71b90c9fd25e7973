using Kiago.Chemistry;
using Kiago.Cli.IO;

namespace Kiago.Cli.Hull;

/// <summary>
/// The reference compositions of a hull, read from one column of a CSV (e.g. the formulas of
/// ../shared/data/formation_energy_mp.csv). Every row is checked when the file is read, so a bad file fails before any
/// compute. Kept: multi-element compositions, each atom-fraction composition once (first occurrence), in file order;
/// elements are terminal entries at 0 eV/atom and need no row.
/// </summary>
internal sealed class HullReferenceSet
{
    readonly List<Composition> compositions = [];
    readonly Dictionary<string, List<int>> bySystem = new(StringComparer.Ordinal);

    public string Source { get; }
    public int Count => compositions.Count;

    HullReferenceSet(string source) => Source = source;

    /// <summary>Reads <paramref name="column"/> of <paramref name="path"/>; errors name <paramref name="option"/>, the file, line and column.</summary>
    public static HullReferenceSet Read(string path, string column, string option)
    {
        var set = new HullReferenceSet(path);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // every message names the option and the file (CsvReader's and CsvHeader's name the file; the option is the label)
        using var reader = CsvReader.Open(path, option);
        var header = CsvHeader.Read(reader, $"{option} {path}");
        int index = header.Require(column);
        long rows = 0;
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue;
            rows++;
            if (index >= record.Fields.Length) throw new UserInputException($"{option} {path}: line {record.Line}: no field for column \"{column}\"");
            if (!Composition.TryParse(record.Fields[index], out var c, out var e))
                throw new UserInputException($"{option} {path}: line {record.Line}, column \"{column}\": {e.Message}");
            if (c.Count > 1 && seen.Add(c.Normalise().ToCanonicalString())) set.Add(c);
        }
        if (rows == 0) throw new UserInputException($"{option} {path}: no rows below the header");
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
