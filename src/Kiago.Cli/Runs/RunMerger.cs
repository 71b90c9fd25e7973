namespace Kiago.Cli.Runs;

/// <summary>
/// <c>kiago merge RUN_DIR... --out DIR</c>: assembles the folders of a sharded run into the folder the unsharded run
/// would have written. Everything is checked before anything is written: the folders must come from the same run
/// (command, arguments, seed, base list, screening, weights by SHA-256), each must be complete with every part
/// verifying against its completion record, and together they must hold every base exactly once. The merged folder
/// is built beside DIR and renamed into place at the end, so a failed merge leaves no partial output. Its tables are
/// assembled from the parts by the same code a run uses (<see cref="RunSession.Rebuild"/>), hence byte-identical.
/// </summary>
public static class RunMerger
{
    public sealed record Result(int Bases, int Folders);

    public static Result Merge(IReadOnlyList<string> dirs, string outDir)
    {
        if (dirs.Count == 0) throw new UserInputException("merge: give the run folders to merge (RUN_DIR...)");
        if (File.Exists(outDir)) throw new UserInputException($"merge: --out {outDir} is a file");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new UserInputException($"merge: --out {outDir} is not empty; choose a new folder");
        var runs = new List<(string Dir, RunManifest Manifest)>();
        foreach (var dir in dirs)
        {
            string path = Path.Combine(dir, RunManifest.File);
            if (!Directory.Exists(dir)) throw new UserInputException($"merge: {dir}: no such folder");
            if (!File.Exists(path)) throw new UserInputException($"merge: {dir}: no {RunManifest.File} (not a kiago run folder)");
            runs.Add((dir, RunManifest.Read(path)));
        }
        string Name((string Dir, RunManifest Manifest) run) => $"{run.Dir} (shard {run.Manifest.Shard})";

        var first = runs[0];
        var layout = RunLayouts.For(first.Manifest.Command, first.Manifest.Arguments, first.Dir);
        foreach (var run in runs.Skip(1))
            if (Mismatch(first.Manifest, run.Manifest) is { } why)
                throw new UserInputException($"merge: {Name(run)} is not from the same run as {Name(first)}: {why}");

        var owner = new Dictionary<int, (string Dir, RunManifest Manifest)>();
        foreach (var run in runs)
        {
            var m = run.Manifest;
            var unfinished = m.Owned.Except(m.Completed).ToList();
            if (m.State != "complete" || unfinished.Count > 0)
                throw new UserInputException($"merge: {Name(run)} is not complete (state {(m.State.Length == 0 ? "unknown" : m.State)}" +
                    (unfinished.Count > 0 ? $", bases {string.Join(", ", unfinished)} not finished" : "") + "); finish it with the same command and --resume");
            var parts = new PartStore(run.Dir);
            foreach (int i in m.Owned)
            {
                if (parts.Verify(i, m.Bases[i], layout.PartKinds) is { } problem)
                    throw new UserInputException($"merge: {Name(run)}: base {i} ({m.Bases[i]}): {problem}; rerun that shard with --resume");
                if (owner.TryGetValue(i, out var other))
                    throw new UserInputException($"merge: base {i} ({m.Bases[i]}) is in both {Name(other)} and {Name(run)}: each base must come from exactly one folder");
                owner[i] = run;
            }
        }
        var bases = first.Manifest.Bases;
        var missing = Enumerable.Range(0, bases.Count).Where(i => !owner.ContainsKey(i)).ToList();
        if (missing.Count > 0)
        {
            var shards = runs.Select(r => r.Manifest.Shard.Count).Distinct().ToList();
            string hint = shards.Count == 1 && shards[0] > 1
                ? $"; missing shard(s) {string.Join(", ", missing.Select(i => i % shards[0]).Distinct().Order().Select(s => $"{s}/{shards[0]}"))}"
                : "";
            throw new UserInputException($"merge: bases {string.Join(", ", missing.Take(20).Select(i => $"{i} ({bases[i]})"))}{(missing.Count > 20 ? ", …" : "")} are in none of the given folders{hint}");
        }

        string full = Path.GetFullPath(outDir);
        string staging = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.merge-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var target = new PartStore(staging);
            var all = Enumerable.Range(0, bases.Count).ToList();
            foreach (int i in all) new PartStore(owner[i].Dir).CopyTo(target, i, layout.PartKinds);
            RunSession.Rebuild(layout, target, staging, bases, all, first.Manifest.Arguments);
            var seconds = new Dictionary<int, double>();
            foreach (int i in all)
                seconds[i] = owner[i].Manifest.BaseSeconds.TryGetValue(i, out double s) ? s : target.Seconds(i);
            (first.Manifest with
            {
                Device = string.Join(" + ", runs.Select(r => r.Manifest.Device).Distinct()),
                Shard = Shard.Whole, Owned = all, Completed = all, State = "complete",
                Started = runs.Select(r => r.Manifest.Started).Where(s => s.Length > 0).Order(StringComparer.Ordinal).FirstOrDefault() ?? "",
                TotalSeconds = runs.Sum(r => r.Manifest.TotalSeconds), BaseSeconds = seconds,
                Timings = runs.SelectMany(r => r.Manifest.Timings.Keys).Distinct().ToDictionary(name => name, name =>
                    (IReadOnlyDictionary<int, double>)all.Where(i => owner[i].Manifest.Timings.TryGetValue(name, out var v) && v.ContainsKey(i))
                        .ToDictionary(i => i, i => owner[i].Manifest.Timings[name][i])),
                MergedFrom = [.. runs.Select(r => $"{Path.GetFullPath(r.Dir)} (shard {r.Manifest.Shard})")],
            }).Write(Path.Combine(staging, RunManifest.File));
            if (Directory.Exists(outDir)) Directory.Delete(outDir);
            Directory.Move(staging, full);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        return new Result(bases.Count, runs.Count);
    }

    /// <summary>Why two manifests are not shards of one run, or null when they are.</summary>
    static string? Mismatch(RunManifest a, RunManifest b)
    {
        if (a.Command != b.Command) return $"command '{b.Command}', not '{a.Command}'";
        var sa = a.Arguments.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        var sb = b.Arguments.Select(kv => $"{kv.Key}={kv.Value}").ToList();
        if (!sa.SequenceEqual(sb))
            return "other arguments (" + string.Join(", ", sb.Except(sa).Concat(sa.Except(sb).Select(s => "not " + s)).DefaultIfEmpty("argument order")) + ")";
        if (a.Seed != b.Seed) return $"seed {b.Seed}, not {a.Seed}";
        if (!a.Bases.SequenceEqual(b.Bases)) return "another base list";
        if (a.Screening != b.Screening) return $"screening '{b.Screening}', not '{a.Screening}'";
        var wa = a.Weights.ToDictionary(kv => kv.Key, kv => RunManifest.WeightsIdentity(kv.Value));
        var wb = b.Weights.ToDictionary(kv => kv.Key, kv => RunManifest.WeightsIdentity(kv.Value));
        foreach (var key in wa.Keys.Union(wb.Keys))
        {
            wa.TryGetValue(key, out var x); wb.TryGetValue(key, out var y);
            if (x != y) return $"{key} weights {y ?? "missing"}, not {x ?? "missing"}";
        }
        return null;
    }
}
