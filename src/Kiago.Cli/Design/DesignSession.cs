using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>What a finished (or cancelled) session reports.</summary>
public sealed record SessionResult(bool Completed, IReadOnlyList<BaseSummary> NewSummaries, int BasesDone, int BasesTotal, double Seconds);

/// <summary>
/// Runs the bases of one request into --out DIR, streaming each finished base to disk. Crash consistency: a base's
/// rows are first written as part files (.parts/base-NNNN.*), then the manifest records the base as complete, then
/// the combined tables are rebuilt from the completed parts; every file is replaced atomically (temp + rename).
/// --resume re-reads the manifest, checks the arguments are the same, rebuilds the tables and runs only the bases
/// not yet complete — each from its own seeded stream, so the result equals an uninterrupted run. A base's parts are
/// reused only when they match the completion record written (atomically) after them (<see cref="CompletionRecord"/>:
/// size, rows, SHA-256); a base whose parts do not match is named on stderr and computed again. The folder is locked
/// (<see cref="RunLock"/>) for the whole run, and the manifest records the PID and host of the run writing it.
/// </summary>
public sealed class DesignSession(BaseDesigner designer, string screenName, TextWriter? progress)
{
    public const string ManifestFile = "manifest.json";
    const string PartsDir = ".parts";

    /// <summary>
    /// When set (--hull-reference), candidates.csv gets the e_above_hull column: one value per row of a base, in row
    /// order. Unset, the tables are exactly those of a run without a hull.
    /// </summary>
    public Func<IReadOnlyList<CandidateRow>, IReadOnlyList<double>>? EnergyAboveHull { get; init; }

    /// <summary>Where warnings go (a reused part that does not verify), even when progress is off.</summary>
    public TextWriter? Warnings { get; init; }

    /// <summary>The part files of base <paramref name="index"/>, in the order they are written and recorded.</summary>
    public static IReadOnlyList<string> PartFiles(string dir, int index) =>
        [.. PartKinds.Select(kind => Part(dir, index, kind))];

    /// <summary>The completion record of base <paramref name="index"/>, written after its parts.</summary>
    public static string PartRecord(string dir, int index) => Part(dir, index, "done.json");

    static readonly string[] PartKinds = ["candidates.csv", "traces.csv", "summary.csv", "summary.json"];

    public SessionResult Run(DesignRunRequest request, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        string dir = request.OutDir;
        string manifestPath = Path.Combine(dir, ManifestFile);
        var completed = new SortedSet<int>();
        var baseSeconds = new SortedDictionary<int, double>();
        var noveltySeconds = new SortedDictionary<int, double>();
        double previousSeconds = 0;
        string started = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        // the lock and the temporary files of an interrupted atomic write are not a run's outputs
        bool hadEntries = Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir)
            .Select(Path.GetFileName).Any(name => name != RunLock.FileName && !(name!.StartsWith('.') && name.EndsWith(".tmp")));
        using var runLock = RunLock.Acquire(dir);
        RemoveStaleTemporaryFiles(dir);
        if (File.Exists(manifestPath))
        {
            if (!request.Resume)
                throw new UserInputException($"--out {dir}: the folder already holds a run ({ManifestFile}{PreviousRun(manifestPath)}); " +
                    "add --resume to finish it or choose another folder");
            ReadManifest(manifestPath, request, completed, baseSeconds, noveltySeconds, ref previousSeconds, ref started);
            VerifyCompletedParts(dir, request, completed, baseSeconds);
        }
        else if (request.Resume && hadEntries)
            throw new UserInputException($"--resume: {dir} has no {ManifestFile}, so there is nothing to resume");
        // the manifest comes first: from then on a kill at any moment leaves a folder that --resume finishes
        var manifest = new ManifestState(request, started, completed, baseSeconds, noveltySeconds, previousSeconds, screenName);
        manifest.Write(manifestPath, "running", clock.Elapsed.TotalSeconds);
        Directory.CreateDirectory(Path.Combine(dir, PartsDir));
        RebuildTables(dir, request.Bases.Count, completed, EnergyAboveHull is not null);

        var summaries = new List<BaseSummary>();
        designer.Progress = null;
        try
        {
            for (int i = 0; i < request.Bases.Count; i++)
            {
                if (completed.Contains(i)) continue;
                cancel.ThrowIfCancellationRequested();
                var b = request.Bases[i];
                var baseClock = Stopwatch.StartNew();
                var reporter = new ProgressReporter(progress, i, request.Bases.Count, b.Name, request.Settings.Candidates);
                designer.Progress = reporter.Report;
                var outcome = designer.Run(request.Settings, b, i, cancel);
                reporter.Done(outcome.Summary, outcome.NoveltySeconds);
                noveltySeconds[i] = outcome.NoveltySeconds;
                WriteParts(dir, i, outcome, EnergyAboveHull?.Invoke(outcome.Rows));
                completed.Add(i);
                baseSeconds[i] = baseClock.Elapsed.TotalSeconds;
                manifest.Write(manifestPath, completed.Count == request.Bases.Count ? "complete" : "running", clock.Elapsed.TotalSeconds);
                RebuildTables(dir, request.Bases.Count, completed, EnergyAboveHull is not null);
                summaries.Add(outcome.Summary);
            }
        }
        catch (OperationCanceledException)
        {
            manifest.Write(manifestPath, "cancelled", clock.Elapsed.TotalSeconds);
            return new SessionResult(false, summaries, completed.Count, request.Bases.Count, clock.Elapsed.TotalSeconds);
        }
        manifest.Write(manifestPath, "complete", clock.Elapsed.TotalSeconds);
        return new SessionResult(true, summaries, completed.Count, request.Bases.Count, clock.Elapsed.TotalSeconds);
    }

    static string Part(string dir, int index, string kind) => Path.Combine(dir, PartsDir, $"base-{index:D4}.{kind}");

    /// <summary>The parts, then their completion record: a crash between the two leaves parts that are not reused.</summary>
    static void WriteParts(string dir, int index, BaseOutcome outcome, IReadOnlyList<double>? energyAboveHull)
    {
        File.Delete(PartRecord(dir, index)); // a stale record of an earlier attempt must never vouch for new parts
        AtomicFile.Write(Part(dir, index, "candidates.csv"), w => w.Write(DesignTables.CandidateLines(outcome.Rows, energyAboveHull)));
        AtomicFile.Write(Part(dir, index, "traces.csv"), w => w.Write(DesignTables.TraceLines(index, outcome.Trace)));
        AtomicFile.Write(Part(dir, index, "summary.csv"), w => w.Write(DesignTables.SummaryLine(outcome.Summary)));
        AtomicFile.Write(Part(dir, index, "summary.json"), w => w.Write(DesignTables.SummaryJson(outcome.Summary)));
        CompletionRecord.Write(PartRecord(dir, index), PartFiles(dir, index));
    }

    /// <summary>
    /// Temporary files of atomic writes that a killed run left behind (.name.PID.GUID.tmp): this run holds the folder's
    /// lock, so no other run is writing them.
    /// </summary>
    static void RemoveStaleTemporaryFiles(string dir)
    {
        foreach (var folder in new[] { dir, Path.Combine(dir, PartsDir) })
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp")) File.Delete(file);
        }
    }

    /// <summary>Drops from <paramref name="completed"/> every base whose parts do not match their record, saying which and why.</summary>
    void VerifyCompletedParts(string dir, DesignRunRequest request, SortedSet<int> completed, SortedDictionary<int, double> baseSeconds)
    {
        foreach (int i in completed.ToList())
        {
            if (CompletionRecord.Verify(PartRecord(dir, i), PartFiles(dir, i)) is not { } problem) continue;
            Warnings?.WriteLine($"kiago: warning: --resume: base {i + 1} ({request.Bases[i].Name}) is listed as complete, but {problem}; computing it again");
            completed.Remove(i);
            baseSeconds.Remove(i);
        }
    }

    /// <summary>", state running, written by PID 123 on host h" for the refusal message; empty when unreadable.</summary>
    static string PreviousRun(string manifestPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(manifestPath));
            var root = doc.RootElement;
            string state = root.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "?";
            string who = root.TryGetProperty("pid", out var p) && p.TryGetInt64(out long pid) && root.TryGetProperty("host", out var h)
                ? $", written by PID {pid} on host {h}" : "";
            // this run holds the folder's lock, so a run the manifest calls running is no longer running
            return $", state {state}{who}{(state == "running" ? ", which stopped without finishing" : "")}";
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>candidates.csv, traces.csv, summary.csv, summary.json = header + the completed bases' parts in base order.</summary>
    static void RebuildTables(string dir, int baseCount, SortedSet<int> completed, bool energyAboveHull)
    {
        string ReadPart(int i, string kind)
        {
            var path = Part(dir, i, kind);
            if (!File.Exists(path)) throw new UserInputException($"--resume: {path} is missing although the manifest lists base {i} as complete");
            return File.ReadAllText(path, CsvWriter.Utf8);
        }
        foreach (var (file, kind, columns) in new[]
                 {
                     ("candidates.csv", "candidates.csv", DesignTables.CandidateColumnsFor(energyAboveHull)),
                     ("traces.csv", "traces.csv", DesignTables.TraceColumns),
                     ("summary.csv", "summary.csv", DesignTables.SummaryColumns),
                 })
        {
            AtomicFile.Write(Path.Combine(dir, file), w =>
            {
                w.Write(DesignTables.Header(columns));
                foreach (int i in completed) w.Write(ReadPart(i, kind));
            });
        }
        AtomicFile.Write(Path.Combine(dir, "summary.json"), w =>
        {
            w.Write("[");
            bool first = true;
            foreach (int i in completed)
            {
                w.Write(first ? "\n" : ",\n");
                w.Write(ReadPart(i, "summary.json"));
                first = false;
            }
            w.Write("\n]\n");
        });
    }

    static void ReadManifest(string path, DesignRunRequest request, SortedSet<int> completed,
        SortedDictionary<int, double> baseSeconds, SortedDictionary<int, double> noveltySeconds, ref double previousSeconds, ref string started)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new UserInputException($"--resume: {path} is not valid JSON ({e.Message})"); }
        using (doc)
        try
        {
            var root = doc.RootElement;
            if (!root.TryGetProperty("arguments", out var args) || args.ValueKind != JsonValueKind.Object)
                throw new UserInputException($"--resume: {path} has no 'arguments' object");
            var stored = args.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}").ToList();
            var current = request.Arguments.Select(kv => $"{kv.Key}={kv.Value}").ToList();
            string command = root.TryGetProperty("command", out var c) ? c.GetString() ?? "" : "";
            if (command != request.Command || !stored.SequenceEqual(current))
            {
                var diff = current.Except(stored).Concat(stored.Except(current).Select(s => "was " + s));
                throw new UserInputException($"--resume: {path} was written by a run with other arguments ({string.Join(", ", diff.DefaultIfEmpty("command " + command))})");
            }
            foreach (var e in root.GetProperty("completed_bases").EnumerateArray())
            {
                int i = e.GetInt32();
                if (i < 0 || i >= request.Bases.Count) throw new UserInputException($"--resume: {path} lists base {i}, but the run has {request.Bases.Count} bases");
                completed.Add(i);
            }
            if (root.TryGetProperty("timings", out var t))
            {
                if (t.TryGetProperty("total_seconds", out var ts)) previousSeconds = ts.GetDouble();
                if (t.TryGetProperty("base_seconds", out var bs))
                    foreach (var p in bs.EnumerateObject()) baseSeconds[int.Parse(p.Name, CultureInfo.InvariantCulture)] = p.Value.GetDouble();
                if (t.TryGetProperty("novelty_seconds", out var ns))
                    foreach (var p in ns.EnumerateObject()) noveltySeconds[int.Parse(p.Name, CultureInfo.InvariantCulture)] = p.Value.GetDouble();
            }
            if (root.TryGetProperty("started_utc", out var s) && s.GetString() is { } st) started = st;
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or OverflowException)
        {
            // valid JSON of the wrong shape (a value of the wrong type, a missing key): the manifest was edited or damaged
            throw new UserInputException($"--resume: {path} is not a Kiago run manifest ({e.Message})", e);
        }
    }

    /// <summary>manifest.json: provenance (version, arguments, seed, weights, device), progress state and timings.</summary>
    sealed class ManifestState(DesignRunRequest request, string started, SortedSet<int> completed,
        SortedDictionary<int, double> baseSeconds, SortedDictionary<int, double> noveltySeconds, double previousSeconds, string screenName)
    {
        public void Write(string path, string state, double sessionSeconds)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            {
                w.WriteStartObject();
                w.WriteString("tool", "kiago");
                w.WriteString("version", typeof(DesignSession).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?");
                w.WriteString("command", request.Command);
                w.WriteStartObject("arguments");
                foreach (var (k, v) in request.Arguments) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteNumber("seed", request.Settings.Seed);
                w.WriteString("device", request.Device);
                w.WriteString("screening", screenName);
                w.WriteStartObject("weights");
                foreach (var (k, v) in request.Weights) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteStartArray("bases");
                foreach (var b in request.Bases) w.WriteStringValue(b.Name);
                w.WriteEndArray();
                w.WriteStartArray("completed_bases");
                foreach (int i in completed) w.WriteNumberValue(i);
                w.WriteEndArray();
                w.WriteString("state", state);
                w.WriteNumber("pid", Environment.ProcessId);
                w.WriteString("host", Environment.MachineName);
                w.WriteString("started_utc", started);
                w.WriteString("updated_utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                w.WriteStartObject("timings");
                w.WriteNumber("total_seconds", previousSeconds + sessionSeconds);
                w.WriteStartObject("base_seconds");
                foreach (var (i, s) in baseSeconds) w.WriteNumber(i.ToString(CultureInfo.InvariantCulture), s);
                w.WriteEndObject();
                // the nearest-known-composition search inside each base's time (issue 12: ≤ 5 % of the wall time)
                w.WriteStartObject("novelty_seconds");
                foreach (var (i, s) in noveltySeconds) w.WriteNumber(i.ToString(CultureInfo.InvariantCulture), s);
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteNumber("peak_working_set_bytes", Process.GetCurrentProcess().PeakWorkingSet64);
                w.WriteNumber("managed_heap_bytes", GC.GetTotalMemory(false));
                w.WriteEndObject();
            }
            AtomicFile.Write(path, tw => tw.Write(Encoding.UTF8.GetString(stream.ToArray()) + "\n"));
        }
    }
}
