namespace Kiago.Cli.Runs;

/// <summary>
/// A fully checked run of some command over a base list: its canonical arguments (compared on --resume and by
/// merge; the shard and --only selection are not among them), the bases, and which of them this run does.
/// </summary>
public sealed record RunRequest(
    string Command,
    IReadOnlyList<KeyValuePair<string, string>> Arguments,
    IReadOnlyList<string> Bases,
    long Seed,
    string OutDir,
    bool Resume,
    string Device,
    IReadOnlyList<KeyValuePair<string, string>> Weights,
    string Screening,
    Shard Shard,
    IReadOnlySet<int>? Only = null)
{
    /// <summary>The base indices this run computes: its shard's, narrowed by --only.</summary>
    public IReadOnlyList<int> Owned => [.. Enumerable.Range(0, Bases.Count).Where(i => Shard.Owns(i) && (Only is null || Only.Contains(i)))];
}

/// <summary>What a finished (or cancelled) run reports.</summary>
public sealed record RunResult(bool Completed, int BasesDone, int BasesTotal, double Seconds);

/// <summary>
/// What one base produced: its part files (kind → text) and optional named timings of that base (e.g.
/// novelty_seconds), which the completion record and manifest.json's timings keep beside base_seconds.
/// </summary>
public sealed record BaseParts(IReadOnlyDictionary<string, string> Files, IReadOnlyDictionary<string, double>? Timings = null);
