using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>A fully checked run: the command's canonical arguments (compared on --resume), bases, settings, and where to write.</summary>
public sealed record DesignRunRequest(
    string Command,
    IReadOnlyList<KeyValuePair<string, string>> Arguments,
    IReadOnlyList<DesignBase> Bases,
    DesignSettings Settings,
    string OutDir,
    bool Resume,
    string Device,
    IReadOnlyList<KeyValuePair<string, string>> Weights);
