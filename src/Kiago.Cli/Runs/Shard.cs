using System.Globalization;

namespace Kiago.Cli.Runs;

/// <summary>
/// <c>--shard I/N</c>: this run does the bases whose index i has i mod N = I (round robin, so a base list sorted by
/// size still spreads evenly). Only whole bases are dealt out: every base keeps its index in the full list, and its
/// random streams are drawn from (seed, base index) alone, so a base computes the same bytes in any shard layout.
/// </summary>
public sealed record Shard(int Index, int Count)
{
    /// <summary>The whole run (no --shard).</summary>
    public static readonly Shard Whole = new(0, 1);

    public bool IsWhole => Count == 1;

    public bool Owns(int baseIndex) => baseIndex % Count == Index;

    public override string ToString() => $"{Index.ToString(CultureInfo.InvariantCulture)}/{Count.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses "I/N" with 0 ≤ I &lt; N; anything else is a user error naming the option and the rule.</summary>
    public static Shard Parse(string? text, string option = "--shard")
    {
        if (text is null) return Whole;
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
            throw new UserInputException($"{option} '{text}': expected I/N with whole numbers, e.g. 0/4 (shard I of N, I counted from 0)");
        if (count < 1) throw new UserInputException($"{option} {text}: the shard count N must be at least 1");
        if (index >= count) throw new UserInputException($"{option} {text}: the shard index I must be below N (shards are 0/{count} … {count - 1}/{count})");
        return new Shard(index, count);
    }
}
