using Kiago.Cli.Runs;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>
/// A fully checked run: the command's canonical arguments (compared on --resume and by merge), bases, settings, where
/// to write, and which shard of the bases to run (null: all of them).
/// </summary>
public sealed record DesignRunRequest(
    string Command,
    IReadOnlyList<KeyValuePair<string, string>> Arguments,
    IReadOnlyList<DesignBase> Bases,
    DesignSettings Settings,
    string OutDir,
    bool Resume,
    string Device,
    IReadOnlyList<KeyValuePair<string, string>> Weights,
    Shard? Shard = null);
