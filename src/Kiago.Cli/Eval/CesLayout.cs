using System.Globalization;
using Kiago.Cli.Design;
using Kiago.Cli.IO;
using Kiago.Cli.Runs;
using Kiago.Design.Baselines;

namespace Kiago.Cli.Eval;

/// <summary>
/// The run folder of <c>kiago baseline ces</c> (and the ces/ half of an experiment): candidates.csv, summary.csv,
/// summary.json, provenance.csv (how each row was made) and skipped.csv (bases the baseline cannot treat, and why),
/// each assembled from per-base parts.
/// </summary>
public static class CesLayout
{
    public const string ProvenanceHeader = "base_index,candidate,formula,replaced,oxidation_state,cells,substituents\n";
    public const string SkippedHeader = "base_index,base,reason\n";

    public static readonly RunLayout Layout = new(Tables(""), []);

    /// <summary>The tables under <paramref name="prefix"/> ("" or "ces/").</summary>
    public static RunTable[] Tables(string prefix) =>
    [
        new RunTable(prefix + "candidates.csv", DesignTables.Header(DesignTables.CandidateColumns)),
        new RunTable(prefix + "summary.csv", DesignTables.Header(DesignTables.SummaryColumns)),
        new RunTable(prefix + "summary.json", "", TableShape.JsonArray),
        new RunTable(prefix + "provenance.csv", ProvenanceHeader),
        new RunTable(prefix + "skipped.csv", SkippedHeader),
    ];

    /// <summary>
    /// One base's parts: its rows, summary and provenance, or (skipped) only its skipped.csv line. With
    /// <paramref name="dropKnown"/> (--novel-only) candidates.csv leaves out known compositions; the summary and
    /// provenance describe every sample.
    /// </summary>
    public static Dictionary<string, string> Parts(string prefix, int index, string name, CesOutcome? outcome, string? skipReason, bool dropKnown = false)
    {
        string kind(string file) => (prefix + file).Replace('/', '.');
        return new Dictionary<string, string>
        {
            [kind("candidates.csv")] = outcome is null ? "" : DesignTables.CandidateLines(outcome.Rows.Where(row => !dropKnown || !row.Novelty.Known)),
            [kind("summary.csv")] = outcome is null ? "" : DesignTables.SummaryLine(outcome.Summary),
            [kind("summary.json")] = outcome is null ? "" : DesignTables.SummaryJson(outcome.Summary),
            [kind("provenance.csv")] = outcome is null ? "" : Provenance(outcome),
            [kind("skipped.csv")] = skipReason is null ? "" : Line(index.ToString(CultureInfo.InvariantCulture), name, skipReason),
        };
    }

    static string Provenance(CesOutcome outcome)
    {
        var w = new StringWriter();
        var csv = new CsvWriter(w);
        foreach (var (row, sample) in outcome.Rows.Zip(outcome.Samples))
            csv.WriteRecord(I(row.BaseIndex), I(row.Candidate), row.Formula, sample.Replaced.Symbol,
                sample.OxidationState.ToString("+0;-0", CultureInfo.InvariantCulture), I(sample.Cells),
                string.Join(" ", sample.Substituents.Select(e => e.Symbol)));
        return w.ToString();
    }

    static string Line(params string[] fields)
    {
        var w = new StringWriter();
        new CsvWriter(w).WriteRecord(fields);
        return w.ToString();
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
