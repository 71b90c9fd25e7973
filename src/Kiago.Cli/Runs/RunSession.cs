using System.Diagnostics;
using System.Globalization;
using Kiago.Cli.IO;

namespace Kiago.Cli.Runs;

/// <summary>
/// Runs the bases a request owns into --out DIR, one at a time, streaming each finished base to disk. Crash
/// consistency: a base's parts are written atomically, then its completion record (<see cref="PartStore"/>), then the
/// manifest lists it as complete, then the tables are rebuilt from the completed parts (<see cref="RunLayout"/>).
/// --resume checks the arguments, shard and selection are the same, re-verifies every part it reuses (a base whose
/// parts do not verify is computed again, with a note), and runs only what is left — each base from its own seeded
/// streams, so the result equals an uninterrupted run byte for byte.
/// </summary>
public sealed class RunSession(RunLayout layout, TextWriter? notes)
{
    /// <summary>Computes one base (by its index in the full list) and returns its parts, keyed by part kind.</summary>
    public delegate BaseParts BaseWork(int index, CancellationToken cancel);

    public RunResult Run(RunRequest request, BaseWork work, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        string dir = request.OutDir;
        string manifestPath = Path.Combine(dir, RunManifest.File);
        var parts = new PartStore(dir);
        var completed = new SortedSet<int>();
        var baseSeconds = new SortedDictionary<int, double>();
        var timings = new SortedDictionary<string, SortedDictionary<int, double>>(StringComparer.Ordinal);
        double previousSeconds = 0;
        string started = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        var owned = request.Owned;
        if (owned.Count == 0)
            throw new UserInputException($"--shard {request.Shard}: this shard has no base to run (the list has {request.Bases.Count}); use at most {request.Bases.Count} shards");
        // the lock and the temporary files of an interrupted atomic write are not a run's outputs
        bool hadEntries = Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir)
            .Select(Path.GetFileName).Any(name => name != RunLock.FileName && !(name!.StartsWith('.') && name.EndsWith(".tmp")));
        using var runLock = RunLock.Acquire(dir);
        RemoveStaleTemporaryFiles(dir);
        if (File.Exists(manifestPath))
        {
            if (!request.Resume)
                throw new UserInputException($"--out {dir}: the folder already holds a run ({RunManifest.File}{RunManifest.PreviousRun(manifestPath)}); " +
                    "add --resume to finish it or choose another folder");
            var old = RunManifest.Read(manifestPath, "--resume: ");
            CheckSameRun(manifestPath, old, request);
            foreach (int i in old.Completed)
            {
                if (parts.Verify(i, request.Bases[i], layout.PartKinds) is { } problem)
                {
                    notes?.WriteLine($"kiago: warning: --resume: base {i + 1} ({request.Bases[i]}) is listed as complete, but {problem}; computing it again");
                    continue;
                }
                completed.Add(i);
                baseSeconds[i] = old.BaseSeconds.TryGetValue(i, out double s) ? s : parts.Seconds(i);
                foreach (var (name, values) in old.Timings)
                    if (values.TryGetValue(i, out double v)) Timing(timings, name)[i] = v;
            }
            previousSeconds = old.TotalSeconds;
            if (old.Started.Length > 0) started = old.Started;
        }
        else if (request.Resume && hadEntries)
            throw new UserInputException($"--resume: {dir} has no {RunManifest.File}, so there is nothing to resume");

        var manifest = RunManifest.For(request, started);
        RunManifest Snapshot(string state) => manifest with
        {
            Completed = [.. completed], State = state, TotalSeconds = previousSeconds + clock.Elapsed.TotalSeconds,
            BaseSeconds = new Dictionary<int, double>(baseSeconds),
            Timings = timings.ToDictionary(t => t.Key, t => (IReadOnlyDictionary<int, double>)new Dictionary<int, double>(t.Value)),
        };
        // the manifest comes first: from then on a kill at any moment leaves a folder that --resume finishes
        Snapshot("running").Write(manifestPath);
        Directory.CreateDirectory(parts.Dir);
        Rebuild(layout, parts, dir, request.Bases, completed, request.Arguments);
        try
        {
            foreach (int i in owned)
            {
                if (completed.Contains(i)) continue;
                cancel.ThrowIfCancellationRequested();
                var baseClock = Stopwatch.StartNew();
                var produced = work(i, cancel);
                double seconds = baseClock.Elapsed.TotalSeconds;
                parts.Write(i, request.Bases[i], produced, seconds);
                completed.Add(i);
                baseSeconds[i] = Math.Round(seconds, 3);
                foreach (var (name, value) in produced.Timings ?? new Dictionary<string, double>()) Timing(timings, name)[i] = value;
                Snapshot(completed.Count == owned.Count ? "complete" : "running").Write(manifestPath);
                Rebuild(layout, parts, dir, request.Bases, completed, request.Arguments);
            }
        }
        catch (OperationCanceledException)
        {
            Snapshot("cancelled").Write(manifestPath);
            return new RunResult(false, completed.Count, owned.Count, clock.Elapsed.TotalSeconds);
        }
        Snapshot("complete").Write(manifestPath);
        return new RunResult(true, completed.Count, owned.Count, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Temporary files of atomic writes that a killed run left behind (.name.PID.GUID.tmp): this run holds the folder's
    /// lock, so no other run is writing them.
    /// </summary>
    static void RemoveStaleTemporaryFiles(string dir)
    {
        foreach (var folder in new[] { dir, Path.Combine(dir, PartStore.Folder) }.Concat(
                     Directory.Exists(dir) ? Directory.EnumerateDirectories(dir).Where(d => !Path.GetFileName(d).StartsWith('.')) : []))
        {
            if (!Directory.Exists(folder)) continue;
            foreach (var file in Directory.EnumerateFiles(folder, ".*.tmp")) File.Delete(file);
        }
    }

    static SortedDictionary<int, double> Timing(SortedDictionary<string, SortedDictionary<int, double>> timings, string name) =>
        timings.TryGetValue(name, out var t) ? t : timings[name] = new SortedDictionary<int, double>();

    /// <summary>The tables (and rendered outputs) of a folder from its completed parts, in base order.</summary>
    public static void Rebuild(RunLayout layout, PartStore parts, string dir, IReadOnlyList<string> bases, IEnumerable<int> completed,
        IReadOnlyList<KeyValuePair<string, string>> arguments)
    {
        var list = completed.ToList();
        foreach (var table in layout.Tables) parts.WriteTable(dir, table, list);
        layout.Render?.Invoke(new RunOutputs(dir, bases, list, parts.Read, arguments));
    }

    static void CheckSameRun(string path, RunManifest old, RunRequest request)
    {
        var stored = old.Arguments.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var current = request.Arguments.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        if (old.Command != request.Command || !stored.SequenceEqual(current))
        {
            var diff = current.Except(stored).Concat(stored.Except(current).Select(s => "was " + s));
            throw new UserInputException($"--resume: {path} was written by a run with other arguments ({string.Join(", ", diff.DefaultIfEmpty("command " + old.Command))})");
        }
        if (!old.Bases.SequenceEqual(request.Bases))
            throw new UserInputException($"--resume: {path} was written for another base list ({old.Bases.Count} bases: {string.Join(" ", old.Bases.Take(5))}{(old.Bases.Count > 5 ? " …" : "")})");
        if (old.Shard != request.Shard || !old.Owned.SequenceEqual(request.Owned))
            throw new UserInputException($"--resume: {path} is shard {old.Shard} with bases {string.Join(",", old.Owned)}; this command asks for shard {request.Shard} with bases {string.Join(",", request.Owned)}");
    }
}
