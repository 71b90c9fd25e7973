using System.Globalization;
using Kiago.Cli.Design;
using Kiago.Cli.IO;
using Kiago.Cli.Runs;
using Kiago.Design.Baselines.SuperDiff;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Eval;

/// <summary>
/// The run folder of <c>kiago baseline superdiff</c>: candidates.csv, summary.csv and summary.json with the columns of
/// optimise and C-ES; sampling.csv (per base: the chosen threshold, the scan, empty samples, the Table-4 Tc
/// decomposition when asked for; the sampling time is in manifest.json's timings); provenance.csv (per row: the sample and its ILVR scale); skipped.csv.
/// </summary>
public static class SuperDiffLayout
{
    public const string SamplingHeader = "base_index,base,samples,steps,sampler,guidance_weight,ilvr_scales,threshold,empty_samples," +
        "mean_top30_tc_K,denoise_delta_tc_K,ilvr_delta_tc_K,guidance_delta_tc_K,sum_delta_tc_K,screening_ratio,threshold_scan\n";
    public const string ProvenanceHeader = "base_index,candidate,formula,sample,ilvr_scale,total_amount\n";

    public static readonly RunLayout Layout = new(Tables(""), []);

    public static RunTable[] Tables(string prefix) =>
    [
        new RunTable(prefix + "candidates.csv", DesignTables.Header(DesignTables.CandidateColumns)),
        new RunTable(prefix + "summary.csv", DesignTables.Header(DesignTables.SummaryColumns)),
        new RunTable(prefix + "summary.json", "", TableShape.JsonArray),
        new RunTable(prefix + "sampling.csv", SamplingHeader),
        new RunTable(prefix + "provenance.csv", ProvenanceHeader),
        new RunTable(prefix + "skipped.csv", CesLayout.SkippedHeader),
    ];

    public static Dictionary<string, string> Parts(string prefix, int index, string name, SuperDiffOutcome? outcome, string? skipReason, bool dropKnown = false)
    {
        string kind(string file) => (prefix + file).Replace('/', '.');
        return new Dictionary<string, string>
        {
            [kind("candidates.csv")] = outcome is null ? "" : DesignTables.CandidateLines(outcome.Rows.Where(row => !dropKnown || !row.Novelty.Known)),
            [kind("summary.csv")] = outcome is null ? "" : DesignTables.SummaryLine(outcome.Summary),
            [kind("summary.json")] = outcome is null ? "" : DesignTables.SummaryJson(outcome.Summary),
            [kind("sampling.csv")] = outcome is null ? "" : Sampling(index, name, outcome),
            [kind("provenance.csv")] = outcome is null ? "" : Provenance(outcome),
            [kind("skipped.csv")] = skipReason is null ? "" : Line(I(index), name, skipReason),
        };
    }

    static string Sampling(int index, string name, SuperDiffOutcome o)
    {
        var d = o.Samples.Decomposition;
        string D(double? v) => v is { } x ? R(x) : "";
        int passed = o.Rows.Count(r => r.AllPass);
        string scan = string.Join(" ", o.Thresholded.Scan.Select(s => $"{R(s.Threshold)}:{R(s.MeanTop30Tc)}"));
        return Line(I(index), name, I(o.Options.Samples), I(o.Options.Steps), o.Options.Sampler.ToString().ToLowerInvariant(),
            R(o.Options.GuidanceWeight), o.Options.IlvrScales.Count == 0 ? "none" : string.Join(" ", o.Options.IlvrScales.Select(I)),
            R(o.Thresholded.Threshold), I(o.Thresholded.Empty),
            R(o.Thresholded.Scan.First(s => s.Threshold == o.Thresholded.Threshold).MeanTop30Tc),
            D(d?.Denoise), D(d?.Ilvr), D(d?.Guidance), D(d?.Sum),
            R((double)passed / o.Options.Samples), scan);
    }

    static string Provenance(SuperDiffOutcome o)
    {
        var w = new StringWriter();
        var csv = new CsvWriter(w);
        foreach (var (row, sample) in o.Rows.Zip(o.SampleOfRow))
            csv.WriteRecord(I(row.BaseIndex), I(row.Candidate), row.Formula, I(sample), I(o.Options.ScaleOf(sample)), R(row.FormulaAtoms));
        return w.ToString();
    }

    static string Line(params string[] fields)
    {
        var w = new StringWriter();
        new CsvWriter(w).WriteRecord(fields);
        return w.ToString();
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string R(double v) => double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);
}
