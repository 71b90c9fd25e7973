namespace Kiago.Cli.Runs;

/// <summary>How a table in --out is assembled from the per-base parts.</summary>
public enum TableShape
{
    /// <summary>The header, then each completed base's part in base order (CSV).</summary>
    Lines,
    /// <summary>"[", the parts (one JSON value each) joined by ",\n", "]" (summary.json).</summary>
    JsonArray,
}

/// <summary>One table of a run folder (path relative to --out) and its header line ("" for JSON arrays).</summary>
public sealed record RunTable(string File, string Header, TableShape Shape = TableShape.Lines)
{
    /// <summary>The part kind under .parts/: the path with '/' turned into '.', e.g. kiago.candidates.csv.</summary>
    public string PartKind => File.Replace('/', '.');
}

/// <summary>
/// What a command's run folder holds: the tables rebuilt from parts, the extra per-base parts that are not tables
/// (e.g. an experiment base's status), and an optional step that renders further outputs from the completed parts
/// (the experiment's tables.md). The run, its resume and <c>kiago merge</c> all assemble outputs through this one
/// description, which is why a merged folder is byte-identical to a single run's.
/// </summary>
public sealed record RunLayout(IReadOnlyList<RunTable> Tables, IReadOnlyList<string> ExtraParts, Action<RunOutputs>? Render = null)
{
    /// <summary>Every part kind a completed base must have.</summary>
    public IEnumerable<string> PartKinds => Tables.Select(t => t.PartKind).Concat(ExtraParts);
}

/// <summary>What <see cref="RunLayout.Render"/> sees: the folder, the full base list, the completed bases and their parts.</summary>
public sealed record RunOutputs(string Dir, IReadOnlyList<string> Bases, IReadOnlyList<int> Completed, Func<int, string, string> Part,
    IReadOnlyList<KeyValuePair<string, string>> Arguments);
