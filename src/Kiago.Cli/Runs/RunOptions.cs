using System.CommandLine;

namespace Kiago.Cli.Runs;

/// <summary>The options every multi-base command shares for splitting its work (one definition each).</summary>
internal static class RunOptions
{
    public static Option<string?> Shard() => new("--shard")
    {
        Description = "Run only shard I of N (I/N, I from 0): the bases with index mod N = I; merge the shards' folders with `kiago merge`",
    };

    public static Option<string[]> Only() => new("--only")
    {
        Description = "Run only these bases of the list (names as in the list or 0-based indices; comma-separated, repeatable)",
    };

    /// <summary>--only values → base indices; an unknown name or index is a user error naming it.</summary>
    public static IReadOnlySet<int>? ParseOnly(string[]? values, IReadOnlyList<string> bases)
    {
        var items = (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (items.Count == 0) return null;
        var set = new SortedSet<int>();
        foreach (var item in items)
        {
            int index = -1;
            for (int i = 0; i < bases.Count; i++)
                if (string.Equals(bases[i], item, StringComparison.Ordinal)) { index = i; break; }
            if (index < 0 && int.TryParse(item, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n < bases.Count)
                index = n;
            if (index < 0)
                throw new UserInputException($"--only {item}: no such base in the list (bases: {string.Join(", ", bases.Take(12))}{(bases.Count > 12 ? ", …" : "")}; or an index 0…{bases.Count - 1})");
            set.Add(index);
        }
        return set;
    }
}
