using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiago.Chemistry;
using Kiago.Cli.Design;
using Kiago.Cli.IO;
using Kiago.Design.Baselines;
using Kiago.Design.Experiments;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets;
using Kiago.Nets.Weights;

namespace Kiago.Cli.Eval;

/// <summary>Shared plumbing of the evaluation commands: base lists, models, run-directory tables, run information.</summary>
internal static class EvalIO
{
    /// <summary>--base FORMULA (one) or --bases file.json (the reference's lists); exactly one of the two.</summary>
    public static IReadOnlyList<BaseMaterial> Bases(string? formula, string? file, string? target, int? oxidationState)
    {
        if ((formula is null) == (file is null)) throw new UsageException("give exactly one of --base FORMULA and --bases FILE (.json or .csv)");
        if (file is not null)
            return Path.GetExtension(file).Equals(".json", StringComparison.OrdinalIgnoreCase) ? BaseMaterialList.ReadJson(file) : ReadCsv(file);
        var composition = BaseListReader.ParseFormula(formula!, "--base");
        return [Material(composition, target, oxidationState, $"--base {formula}", "--target", "--ox-state")];
    }

    /// <summary>A CSV base list, the same file optimise reads (column formula; optional target and ox for substitutions).</summary>
    static IReadOnlyList<BaseMaterial> ReadCsv(string file)
    {
        bool substitution;
        using (var reader = CsvReader.Open(file))
            substitution = CsvHeader.Read(reader, file).Names.Contains("target");
        return [.. BaseListReader.Read(file, substitution).Select((b, i) => Material(b.Composition, b.Substitution?.Element,
            b.Substitution?.OxidationState, $"{file}: base {i + 1} ({b.Name})", "target", "ox"))];
    }

    static BaseMaterial Material(Composition composition, string? target, int? oxidationState, string where, string targetName, string oxName)
    {
        SubstitutionSpec? spec = null;
        if (target is not null)
        {
            if (!Elements.TryGet(target, out var element) || !composition.Contains(element))
                throw new UserInputException($"{where}: {targetName} \"{target}\" is not an element of the base");
            int state = oxidationState ?? element.OxidationStatesPymatgenCommon.FirstOrDefault(s => s > 0);
            if (state == 0) throw new UserInputException($"{where}: {targetName} {target} has no positive common oxidation state; give {oxName}");
            var remaining = Composition.FromAmounts(composition.Elements.Where(e => e != element).Select(e => KeyValuePair.Create(e, composition[e])));
            spec = new SubstitutionSpec(element, state, composition[element], remaining);
        }
        return new BaseMaterial(composition.ToFormulaString(), composition, spec);
    }

    /// <summary>The model of a --tc-model/--ef-model option (checked to be the kind it needs), or null without one.</summary>
    public static ICompositionModel? LoadModel(string? path, IBackend backend, string option) =>
        path is null ? null : ModelOptions.Load(path, option, backend, ModelOptions.KindFor(option));

    public static void WriteRows(string dir, IEnumerable<CandidateRow> rows, IEnumerable<BaseSummary> summaries)
    {
        AtomicFile.Write(Path.Combine(dir, "candidates.csv"), w =>
        {
            w.Write(DesignTables.Header(DesignTables.CandidateColumns));
            w.Write(DesignTables.CandidateLines(rows));
        });
        var list = summaries.ToList();
        AtomicFile.Write(Path.Combine(dir, "summary.csv"), w =>
        {
            w.Write(DesignTables.Header(DesignTables.SummaryColumns));
            foreach (var s in list) w.Write(DesignTables.SummaryLine(s));
        });
        AtomicFile.Write(Path.Combine(dir, "summary.json"), w =>
            w.Write("[\n" + string.Join(",\n", list.Select(DesignTables.SummaryJson)) + "\n]\n"));
    }

    public static void WriteTraces(string dir, IEnumerable<(int BaseIndex, IReadOnlyList<TracePoint> Trace)> traces) =>
        AtomicFile.Write(Path.Combine(dir, "traces.csv"), w =>
        {
            w.Write(DesignTables.Header(DesignTables.TraceColumns));
            foreach (var (i, t) in traces) w.Write(DesignTables.TraceLines(i, t));
        });

    /// <summary>provenance.csv: how each C-ES row was made (aligned with candidates.csv by base_index and candidate).</summary>
    public static void WriteProvenance(string dir, IEnumerable<CesOutcome> outcomes) =>
        AtomicFile.Write(Path.Combine(dir, "provenance.csv"), w =>
        {
            var csv = new CsvWriter(w);
            csv.WriteRecord("base_index", "candidate", "formula", "replaced", "oxidation_state", "cells", "substituents");
            foreach (var o in outcomes)
                foreach (var (row, sample) in o.Rows.Zip(o.Samples))
                    csv.WriteRecord(I(row.BaseIndex), I(row.Candidate), row.Formula, sample.Replaced.Symbol,
                        sample.OxidationState.ToString("+0;-0", CultureInfo.InvariantCulture), I(sample.Cells),
                        string.Join(" ", sample.Substituents.Select(e => e.Symbol)));
        });

    public static void WriteManifest(string dir, string command, IEnumerable<KeyValuePair<string, string?>> arguments,
        IEnumerable<(string Base, string Reason)> skipped, string device, double seconds)
    {
        using var stream = new MemoryStream();
        using (var j = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            j.WriteStartObject();
            j.WriteString("command", command);
            j.WriteString("version", typeof(EvalIO).Assembly.GetName().Version?.ToString());
            j.WriteStartObject("arguments");
            foreach (var (k, v) in arguments) j.WriteString(k, v);
            j.WriteEndObject();
            j.WriteString("device", device);
            j.WriteString("machine", Machine());
            j.WriteString("finished_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            j.WriteNumber("seconds", Math.Round(seconds, 3));
            j.WriteStartArray("skipped");
            foreach (var (b, r) in skipped) { j.WriteStartObject(); j.WriteString("base", b); j.WriteString("reason", r); j.WriteEndObject(); }
            j.WriteEndArray();
            j.WriteEndObject();
        }
        AtomicFile.Write(Path.Combine(dir, "manifest.json"), stream.ToArray());
    }

    /// <summary>"N cores, OS, load 1.23 4.56 7.89" (load from /proc/loadavg where it exists).</summary>
    public static string Machine()
    {
        var sb = new StringBuilder($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        try
        {
            if (File.Exists("/proc/loadavg"))
                sb.Append(", load ").Append(string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)));
        }
        catch (IOException) { /* load is informational */ }
        return sb.ToString();
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
}
