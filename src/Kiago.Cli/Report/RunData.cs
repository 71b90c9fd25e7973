using System.Globalization;
using Kiago.Cli.IO;

namespace Kiago.Cli.Report;

/// <summary>One candidate row as the report needs it (columns of candidates.csv; NaN/false where a column is absent).</summary>
public sealed record ReportCandidate(string Base, string Formula, double Tc, double Ef, bool Unique, bool Valid, bool Neutral,
    bool Electronegativity, bool EfNegative, bool AllPass, string Reasons)
{
    /// <summary>The known column: true/false, null where the run has no novelty verdict (older runs, rows without a formula).</summary>
    public bool? Known { get; init; }
    public string NearestKnown { get; init; } = "";
    public double NearestKnownDistance { get; init; } = double.NaN;
    /// <summary>σ of the Tc predictor (K); NaN where the model has none.</summary>
    public double TcSigma { get; init; } = double.NaN;
    public double FormulaAtoms { get; init; } = double.NaN;

    /// <summary>The first screening step this candidate fails, for colouring (order as the screening runs).</summary>
    public string Verdict =>
        AllPass ? "passes all" : !Valid ? "invalid" : !Neutral ? "not charge-neutral" : !Electronegativity ? "electronegativity"
        : !EfNegative ? "Ef ≥ 0" : "fails other check";
}

/// <summary>One summary.csv row (per base).</summary>
public sealed record ReportSummary(int BaseIndex, string Base, double BaseTc, double BaseEf, int NovelAllPass, double UniqueRate, double ValidRate, double NeutralRateInValid,
    double ElectronegativityRateInValid, double EfNegativeRate, double AllPassRate, double DeltaTcTop10, double DeltaTcTop30, double DeltaTcTop50);

/// <summary>One traces.csv row.</summary>
public sealed record ReportTracePoint(int BaseIndex, int Step, double BestTc, double MeanTc);

/// <summary>
/// What a run directory holds (candidates.csv, summary.csv, traces.csv: written by <c>kiago optimise</c> and
/// <c>kiago baseline ces</c>). Every file and column is optional; what is missing is listed in <see cref="Notes"/>
/// so the report can say so instead of failing. A malformed file is a <see cref="UserInputException"/>.
/// </summary>
public sealed class RunData
{
    public required string Directory { get; init; }
    public IReadOnlyList<ReportCandidate>? Candidates { get; init; }
    public IReadOnlyList<ReportSummary>? Summaries { get; init; }
    public IReadOnlyList<ReportTracePoint>? Traces { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];

    public static RunData Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new UserInputException($"{directory}: no such run directory");
        if (!new[] { "candidates.csv", "summary.csv", "traces.csv" }.Any(f => File.Exists(Path.Combine(directory, f))))
        {
            // refuse rather than write report.md into a folder that is not a run (the user's home, a source tree)
            string hint = File.Exists(Path.Combine(directory, "kiago", "candidates.csv"))
                ? $"; it looks like a kiago experiment: report on {Path.Combine(directory, "kiago")} or {Path.Combine(directory, "ces")}" : "";
            throw new UserInputException($"{directory}: not a run folder (no candidates.csv, summary.csv or traces.csv; " +
                $"give the --out folder of kiago optimise, substitute, hydride or baseline ces){hint}");
        }
        var notes = new List<string>();
        var candidates = ReadTable(directory, "candidates.csv", notes, "the Tc–Ef scatter, element frequencies and top-candidate table",
            (t, r) => new ReportCandidate(t.Text(r, "base"), t.Text(r, "formula"), t.Number(r, "tc_rounded"), t.Number(r, "ef_rounded"),
                t.Bool(r, "unique", true), t.Bool(r, "valid"), t.Bool(r, "neutral"), t.Bool(r, "electronegativity"),
                t.Bool(r, "ef_negative"), t.Bool(r, "all_pass"), t.Text(r, "reasons"))
            {
                Known = t.Text(r, "known") switch { "true" => true, "false" => false, _ => null },
                NearestKnown = t.Text(r, "nearest_known"),
                NearestKnownDistance = t.Number(r, "nearest_known_distance"),
                TcSigma = t.Number(r, "tc_sigma_K"),
                FormulaAtoms = t.Number(r, "formula_atoms"),
            },
            ["formula", "tc_rounded", "ef_rounded", "all_pass"]);
        var summaries = ReadTable(directory, "summary.csv", notes, "the per-base summary table and ΔTc",
            (t, r) => new ReportSummary((int)t.Number(r, "base_index", 0), t.Text(r, "base"), t.Number(r, "base_tc"), t.Number(r, "base_ef"),
                (int)t.Number(r, "novel_all_pass", -1), t.Number(r, "unique_rate"), t.Number(r, "valid_rate"),
                t.Number(r, "neutral_rate_in_valid"), t.Number(r, "electronegativity_rate_in_valid"), t.Number(r, "ef_negative_rate"),
                t.Number(r, "all_pass_rate"), t.Number(r, "delta_tc_top10"), t.Number(r, "delta_tc_top30"), t.Number(r, "delta_tc_top50")),
            ["base"]);
        var traces = ReadTable(directory, "traces.csv", notes, "the Tc-per-step plot",
            (t, r) => new ReportTracePoint((int)t.Number(r, "base_index", 0), (int)t.Number(r, "step"), t.Number(r, "best_tc"), t.Number(r, "mean_tc")),
            ["step", "best_tc", "mean_tc"]);
        return new RunData { Directory = directory, Candidates = candidates, Summaries = summaries, Traces = traces, Notes = notes };
    }

    static List<T>? ReadTable<T>(string directory, string file, List<string> notes, string feeds, Func<Table, string[], T> make, string[] required)
    {
        var path = Path.Combine(directory, file);
        if (!File.Exists(path))
        {
            notes.Add($"{file} not found in {directory}: {feeds} are left out.");
            return null;
        }
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        var missing = required.Where(c => !header.Names.Contains(c)).ToArray();
        if (missing.Length > 0)
        {
            notes.Add($"{file} has no column {string.Join(", ", missing.Select(m => $"\"{m}\""))}: {feeds} are left out.");
            return null;
        }
        var table = new Table(path, header.Names);
        var rows = new List<T>();
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue; // blank line
            if (record.Fields.Length != header.Names.Count)
                throw new UserInputException($"{path}: line {record.Line}: {record.Fields.Length} fields, the header has {header.Names.Count}");
            table.Line = record.Line;
            rows.Add(make(table, record.Fields));
        }
        if (rows.Count == 0) notes.Add($"{file} has no rows: {feeds} are empty.");
        return rows;
    }

    /// <summary>Column lookup by name with typed, position-naming parsing.</summary>
    sealed class Table(string path, IReadOnlyList<string> names)
    {
        readonly Dictionary<string, int> index = names.Select((n, i) => (n, i)).GroupBy(p => p.n).ToDictionary(g => g.Key, g => g.First().i);
        public long Line { get; set; }

        public string Text(string[] row, string column) => index.TryGetValue(column, out int i) ? row[i] : "";

        public double Number(string[] row, string column, double absent = double.NaN)
        {
            if (!index.TryGetValue(column, out int i)) return absent;
            var s = row[i].Trim();
            if (s.Length == 0 || s.Equals("nan", StringComparison.OrdinalIgnoreCase)) return double.NaN;
            return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new UserInputException($"{path}: line {Line}, column \"{column}\": \"{s}\" is not a number");
        }

        public bool Bool(string[] row, string column, bool absent = false)
        {
            if (!index.TryGetValue(column, out int i)) return absent;
            return row[i].Trim().ToLowerInvariant() switch
            {
                "true" or "1" => true,
                "false" or "0" or "" => false,
                var s => throw new UserInputException($"{path}: line {Line}, column \"{column}\": \"{s}\" is not true/false"),
            };
        }
    }
}
