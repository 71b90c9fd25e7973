using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Kiago.Chemistry;

namespace Kiago.Design.Novelty;

/// <summary>One known composition: its reduced key, the formula as its source wrote it, and its Tc (NaN where unknown).</summary>
public sealed record KnownComposition(string Key, string Formula, double TcKelvin);

/// <summary>
/// A reference list of known compositions for the novelty columns (issue 12): exact look-up by reduced formula
/// (<see cref="KeyOf"/>) and the nearest known composition by L1 distance on atom fractions. The built-in list is the
/// index <c>tools/build_known_index.py</c> builds from SuperCon and the non-superconductor table, embedded in this
/// assembly (no run reads ../shared); <c>--known FILE.csv</c> gives another.
/// </summary>
public sealed class KnownCompositions
{
    const string ResourceName = "Kiago.Design.Novelty.known-compositions.tsv.gz";
    static readonly Lazy<KnownCompositions> BuiltinList = new(LoadBuiltin, LazyThreadSafetyMode.ExecutionAndPublication);

    readonly KnownComposition[] entries;
    readonly Dictionary<string, int> byKey;
    internal readonly int[] Start;          // CSR: entry i's elements are Start[i] .. Start[i+1]
    internal readonly short[] ElementIndex; // Z − 1
    internal readonly double[] Fraction;    // atom fraction

    /// <summary>Where the list came from, e.g. the embedded index's provenance lines or the --known file and its SHA-256.</summary>
    public string Provenance { get; }

    public IReadOnlyList<KnownComposition> Entries => entries;
    public int Count => entries.Length;

    /// <summary>The embedded index (loaded once, on first use).</summary>
    public static KnownCompositions Builtin => BuiltinList.Value;

    /// <summary>
    /// From (composition, Tc) pairs: compositions sharing a key merge into one entry (the first spelling, the largest
    /// Tc; NaN Tc only when none is known). Entries are kept in key order (ordinal), which breaks nearest-neighbour ties.
    /// </summary>
    public static KnownCompositions FromEntries(IEnumerable<(string Formula, Composition Composition, double TcKelvin)> items, string provenance)
    {
        var merged = new Dictionary<string, KnownComposition>(StringComparer.Ordinal);
        foreach (var (formula, composition, tc) in items)
        {
            var key = KeyOf(composition);
            if (merged.TryGetValue(key, out var old))
            {
                double best = double.IsNaN(old.TcKelvin) ? tc : double.IsNaN(tc) ? old.TcKelvin : Math.Max(old.TcKelvin, tc);
                merged[key] = old with { TcKelvin = best };
            }
            else merged[key] = new KnownComposition(key, formula, tc);
        }
        return new KnownCompositions(merged.Values.OrderBy(e => e.Key, StringComparer.Ordinal).ToArray(), provenance);
    }

    KnownCompositions(KnownComposition[] sorted, string provenance)
    {
        entries = sorted;
        Provenance = provenance;
        byKey = new Dictionary<string, int>(entries.Length, StringComparer.Ordinal);
        Start = new int[entries.Length + 1];
        var elements = new List<short>(entries.Length * 4);
        var fractions = new List<double>(entries.Length * 4);
        for (int i = 0; i < entries.Length; i++)
        {
            byKey[entries[i].Key] = i;
            Start[i] = elements.Count;
            var c = Composition.Parse(entries[i].Key);
            double total = c.TotalAtoms;
            foreach (var el in c.Elements.OrderBy(e => e.Z))
            {
                elements.Add((short)el.Index);
                fractions.Add(c[el] / total);
            }
        }
        Start[entries.Length] = elements.Count;
        ElementIndex = [.. elements];
        Fraction = [.. fractions];
    }

    /// <summary>
    /// The reduced integer formula in Z order, every count written (Y1Ba2Cu3O6.95 → O139Cu60Y20Ba40, Cu2O4 → O2Cu1):
    /// KIAGO's screening integerisation (<see cref="Composition.IntegerCounts"/>: limit_denominator(10⁶), LCM, gcd).
    /// Two compositions have the same key exactly when their atom fractions are equal (to that integerisation).
    /// </summary>
    public static string KeyOf(Composition composition)
    {
        var counts = composition.IntegerCounts();
        var sb = new StringBuilder();
        foreach (int i in Enumerable.Range(0, composition.Count).OrderBy(i => composition.Elements[i].Z))
            sb.Append(composition.Elements[i].Symbol).Append(counts[i].ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>The entry with this reduced key, or null.</summary>
    public KnownComposition? Find(string key) => byKey.TryGetValue(key, out int i) ? entries[i] : null;

    internal int IndexOf(string key) => byKey.TryGetValue(key, out int i) ? i : -1;

    static KnownCompositions LoadBuiltin()
    {
        using var stream = typeof(KnownCompositions).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"the embedded known-compositions index {ResourceName} is missing from the build");
        var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        string sha = Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
        bytes.Position = 0;
        using var gz = new GZipStream(bytes, CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        var header = new List<string>();
        var list = new List<KnownComposition>();
        bool columns = false;
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith('#')) { if (!line.StartsWith("# skipped", StringComparison.Ordinal)) header.Add(line.TrimStart('#', ' ')); continue; }
            if (!columns) { columns = true; continue; }
            var f = line.Split('\t');
            double tc = f[2].Length == 0 ? double.NaN : double.Parse(f[2], CultureInfo.InvariantCulture);
            list.Add(new KnownComposition(f[0], f[1], tc));
        }
        // the tool writes the rows in ordinal key order; keep that order (it breaks ties)
        var sorted = list.OrderBy(e => e.Key, StringComparer.Ordinal).ToArray();
        return new KnownCompositions(sorted, $"built-in index sha256:{sha} ({string.Join("; ", header)})");
    }
}
