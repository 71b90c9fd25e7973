using System.Globalization;
using System.Text.Json;
using Kiago.Chemistry;
using Kiago.Cli.Design;
using Kiago.Cli.IO;
using Kiago.Cli.Runs;
using Kiago.Design.Baselines;
using Kiago.Design.Experiments;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Eval;

/// <summary>
/// The run folder of <c>kiago experiment</c>: kiago/ (KIAGO's candidates, traces, summaries, and skipped.csv for
/// bases it cannot run), ces/ (<see cref="CesLayout"/>), integerisation.csv (Table 1's per-candidate samples) and
/// tables.md — all assembled from per-base parts, tables.md rendered from those parts alone (plus each base's
/// base.json: its formula and substitution), so a run, its resume and a merge of its shards write the same bytes.
/// </summary>
public static class ExperimentLayout
{
    public const string TablesFile = "tables.md";
    const string MaterialPart = "base.json";
    static readonly string[] IntegerisationColumns = ["max_atoms", "base_index", "candidate", "tc_stage1", "tc_integer_loss", "tc_rule_based"];

    static readonly RunTable[] Tables =
    [
        new RunTable("kiago/candidates.csv", DesignTables.Header(DesignTables.CandidateColumns)),
        new RunTable("kiago/traces.csv", DesignTables.Header(DesignTables.TraceColumns)),
        new RunTable("kiago/summary.csv", DesignTables.Header(DesignTables.SummaryColumns)),
        new RunTable("kiago/summary.json", "", TableShape.JsonArray),
        new RunTable("kiago/skipped.csv", CesLayout.SkippedHeader),
        .. CesLayout.Tables("ces/"),
        new RunTable("integerisation.csv", DesignTables.Header(IntegerisationColumns)),
    ];

    /// <summary>The argument that turns the SuperDiff arms on (the denoiser's path; absent or empty: off).</summary>
    public const string SuperDiffArgument = "superdiff";

    public static RunLayout For(string command, bool superDiff = false) =>
        new(superDiff ? [.. Tables, .. SuperDiffLayout.Tables("sd/"), .. SuperDiffLayout.Tables("sdcg/")] : Tables, [MaterialPart],
            outputs => Render(command, outputs, superDiff));

    /// <summary>Whether a run's arguments ran the SuperDiff arms.</summary>
    public static bool HasSuperDiff(IReadOnlyList<KeyValuePair<string, string>> arguments) =>
        arguments.Any(a => a.Key == SuperDiffArgument && a.Value.Length > 0);

    /// <summary>One base's parts.</summary>
    public static BaseParts Parts(int index, ExperimentBaseRun run, bool superDiff = false)
    {
        var b = run.Base;
        var parts = CesLayout.Parts("ces/", index, b.Material.Name, b.Ces, b.CesSkip);
        if (superDiff)
        {
            foreach (var kv in SuperDiffLayout.Parts("sd/", index, b.Material.Name, run.Sd, b.SdSkip)) parts[kv.Key] = kv.Value;
            foreach (var kv in SuperDiffLayout.Parts("sdcg/", index, b.Material.Name, run.SdCg, b.SdSkip)) parts[kv.Key] = kv.Value;
        }
        parts["kiago.candidates.csv"] = b.Kiago is null ? "" : DesignTables.CandidateLines(b.Kiago.Rows);
        parts["kiago.traces.csv"] = b.Kiago is null ? "" : DesignTables.TraceLines(index, b.Kiago.Trace);
        parts["kiago.summary.csv"] = b.Kiago is null ? "" : DesignTables.SummaryLine(b.Kiago.Summary);
        parts["kiago.summary.json"] = b.Kiago is null ? "" : DesignTables.SummaryJson(b.Kiago.Summary);
        parts["kiago.skipped.csv"] = b.KiagoError is null ? "" : Csv(I(index), b.Material.Name, b.KiagoError);
        parts["integerisation.csv"] = string.Concat(run.Integerisation.Select(p =>
            Csv(I(p.MaxAtoms), I(index), I(p.Candidate), R(p.Outcome.TcStage1), R(p.Outcome.TcIntegerLoss), p.Outcome.TcRuleBased is { } t ? R(t) : "")));
        parts[MaterialPart] = MaterialJson(b.Material);
        return new BaseParts(parts);
    }

    /// <summary>tables.md from the completed bases' parts; the run options from the manifest arguments.</summary>
    static void Render(string command, RunOutputs outputs, bool superDiff)
    {
        var args = outputs.Arguments.ToDictionary(kv => kv.Key, kv => kv.Value);
        int Int(string key) => int.Parse(args[key], CultureInfo.InvariantCulture);
        var kind = command["experiment ".Length..] switch
        {
            "substitution" => ExperimentKind.Substitution,
            "hydride" => ExperimentKind.Hydride,
            _ => ExperimentKind.Normal,
        };
        var options = new ExperimentOptions
        {
            Kind = kind, Candidates = Int("candidates"), Steps = Int("steps"), CesSamples = Int("ces_samples"),
            Seed = long.Parse(args["seed"], CultureInfo.InvariantCulture),
            IntegerisationMaxAtoms = args.TryGetValue("integerisation", out var list) && list.Length > 0
                ? [.. list.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] : [],
            SuperDiff = superDiff ? new Kiago.Design.Baselines.SuperDiff.SuperDiffOptions
            {
                Samples = Int("sd_samples"), Steps = Int("sd_steps"),
                GuidanceWeight = double.Parse(args["sd_guidance"], CultureInfo.InvariantCulture),
            } : null,
        };
        var runs = new List<ExperimentBaseRun>();
        foreach (int i in outputs.Completed)
        {
            string Part(string kind) => outputs.Part(i, kind);
            var material = ReadMaterial(Part(MaterialPart));
            var kiagoRows = DesignTableReader.Candidates(Part("kiago.candidates.csv"), $"base {i} kiago/candidates.csv part");
            var kiagoSummary = Part("kiago.summary.json") is { Length: > 0 } ks ? DesignTableReader.Summary(ks) : null;
            var cesRows = DesignTableReader.Candidates(Part("ces.candidates.csv"), $"base {i} ces/candidates.csv part");
            var cesSummary = Part("ces.summary.json") is { Length: > 0 } cs ? DesignTableReader.Summary(cs) : null;
            CesOutcome? Arm(string prefix) => superDiff && Part(prefix + ".summary.json") is { Length: > 0 } json
                ? new CesOutcome(DesignTableReader.Summary(json), DesignTableReader.Candidates(Part(prefix + ".candidates.csv"), $"base {i} {prefix}/candidates.csv part"), [])
                : null;
            var b = new ExperimentBase(material,
                kiagoSummary is null ? null : new BaseOutcome(kiagoSummary, kiagoRows, []), Reason(Part("kiago.skipped.csv")),
                cesSummary is null ? null : new CesOutcome(cesSummary, cesRows, []), Reason(Part("ces.skipped.csv")),
                Arm("sd"), Arm("sdcg"), superDiff ? Reason(Part("sd.skipped.csv")) : null);
            runs.Add(new ExperimentBaseRun(b, ReadIntegerisation(Part("integerisation.csv"))));
        }
        var result = ExperimentRunner.Assemble(options, runs, 0);
        string basesFile = args.TryGetValue("bases", out var f) ? Path.GetFileName(f) : "?";
        string runInfo = $"`kiago {command}` on {basesFile}, {outputs.Completed.Count} of {outputs.Bases.Count} bases";
        AtomicFile.Write(Path.Combine(outputs.Dir, TablesFile), w => w.Write(ExperimentTables.Markdown(result, runInfo)));
    }

    static string? Reason(string skippedLine)
    {
        if (skippedLine.Length == 0) return null;
        using var reader = new CsvReader(new MemoryStream(CsvWriter.Utf8.GetBytes(skippedLine)), "skipped.csv part");
        return reader.ReadRecord()!.Fields[2];
    }

    static List<IntegerisationPoint> ReadIntegerisation(string text)
    {
        var points = new List<IntegerisationPoint>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(',');
            double D(string v) => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture);
            points.Add(new IntegerisationPoint(int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture),
                new IntegerisationOutcome(D(f[3]), D(f[4]), f[5].Length == 0 ? null : D(f[5]))));
        }
        return points;
    }

    /// <summary>The base as the tables need it: name, amounts as written, and the substitution spec.</summary>
    static string MaterialJson(BaseMaterial m)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", m.Name);
            w.WriteString("composition", m.Composition.ToFormulaString());
            if (m.Substitution is { } s)
            {
                w.WriteString("target", s.Target.Symbol);
                w.WriteNumber("oxidation_state", s.OxidationState);
                w.WriteString("amount", R(s.Amount));
                w.WriteString("remaining", s.Remaining.ToFormulaString());
            }
            w.WriteEndObject();
        }
        return CsvWriter.Utf8.GetString(stream.ToArray()) + "\n";
    }

    static BaseMaterial ReadMaterial(string json)
    {
        using var doc = JsonDocument.Parse(CsvWriter.Utf8.GetBytes(json));
        var o = doc.RootElement;
        SubstitutionSpec? spec = null;
        if (o.TryGetProperty("target", out var t))
            spec = new SubstitutionSpec(Elements.Get(t.GetString()!), o.GetProperty("oxidation_state").GetInt32(),
                double.Parse(o.GetProperty("amount").GetString()!, CultureInfo.InvariantCulture), Composition.Parse(o.GetProperty("remaining").GetString()!));
        return new BaseMaterial(o.GetProperty("name").GetString()!, Composition.Parse(o.GetProperty("composition").GetString()!), spec);
    }

    static string Csv(params string[] fields)
    {
        var w = new StringWriter();
        new CsvWriter(w).WriteRecord(fields);
        return w.ToString();
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
