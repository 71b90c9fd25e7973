using Kiago.Cli;
using Kiago.Cli.Runs;
using Kiago.Tests.Support;

namespace Kiago.Tests.Cli.Runs;

/// <summary>
/// --shard I/N and `kiago merge` through the real command line: N = 1, 2, 3 shards merged are byte-identical to the
/// unsharded run (optimise, hydride, baseline ces); bad shard specs, mixed, missing, duplicated and half-written
/// shards are refused naming the shard, and a refused merge writes nothing.
/// </summary>
public sealed class ShardMergeTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static readonly string[] Bases = ["--base", "YBa2Cu3O7", "--base", "MgB2", "--base", "LaFeAsO", "--base", "Nb3Sn"];
    static readonly string[] DesignTables = ["candidates.csv", "summary.csv", "summary.json", "traces.csv"];

    static string[] Optimise(string outDir, params string[] extra) => OptimiseSeeded(outDir, "7", extra);

    static string[] OptimiseSeeded(string outDir, string seed, params string[] extra) =>
        ["optimise", .. Bases, "--candidates", "3", "--steps", "4", "--trace-every", "2", "--seed", seed,
         "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet", "--out", outDir, .. extra];

    void Ok((int ExitCode, string Out, string Err) result) => Assert.True(result.ExitCode == ExitCodes.Ok, result.Err);

    static void AssertSameTables(string expected, string actual, IEnumerable<string> tables)
    {
        foreach (var t in tables)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, t)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, t))),
                $"{t} of {actual} differs from the unsharded run");
    }

    /// <summary>Runs every shard of N into its own folder and merges them; returns the merged folder.</summary>
    string ShardAndMerge(string name, int n, Func<string, string[], string[]> command)
    {
        var dirs = new List<string>();
        for (int i = n - 1; i >= 0; i--) // in reverse, and given to merge in reverse: order must not matter
        {
            string d = cli.PathOf($"{name}-{n}-shard{i}");
            Ok(cli.Run(command(d, ["--shard", $"{i}/{n}"])));
            dirs.Add(d);
        }
        string merged = cli.PathOf($"{name}-{n}-merged");
        Ok(cli.Run(["merge", .. dirs, "--out", merged]));
        return merged;
    }

    [Fact]
    public void Optimise_shards_merge_to_the_unsharded_run_byte_for_byte()
    {
        string whole = cli.PathOf("whole");
        Ok(cli.Run(Optimise(whole)));
        foreach (int n in new[] { 1, 2, 3 })
            AssertSameTables(whole, ShardAndMerge("opt", n, (d, extra) => Optimise(d, extra)), DesignTables);

        // a shard holds only its own bases, and its rows carry their index in the full list
        var shard = File.ReadAllLines(cli.PathOf("opt-3-shard1/candidates.csv")).Skip(1).ToList();
        Assert.Equal(3, shard.Count);
        Assert.All(shard, line => Assert.StartsWith("1,MgB2,", line));
        var manifest = File.ReadAllText(cli.PathOf("opt-3-merged/manifest.json"));
        Assert.Contains("\"merged_from\"", manifest);
        Assert.Contains("\"state\": \"complete\"", manifest);

        // the merged folder is itself a complete run: it merges again and resumes to nothing new
        Ok(cli.Run(["merge", cli.PathOf("opt-3-merged"), "--out", cli.PathOf("again")]));
        AssertSameTables(whole, cli.PathOf("again"), DesignTables);
    }

    [Fact]
    public void Hydride_and_ces_shards_merge_to_the_unsharded_run()
    {
        var hsc = SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_hsc.json");
        string[] Hydride(string d, string[] extra) =>
            ["hydride", "--bases", hsc, "--candidates", "2", "--steps", "2", "--tc-model", "random", "--ef-model", "random",
             "--device", "cpu", "--quiet", "--out", d, .. extra];
        Ok(cli.Run(Hydride(cli.PathOf("h-whole"), [])));
        AssertSameTables(cli.PathOf("h-whole"), ShardAndMerge("h", 3, Hydride), DesignTables);

        var es = SharedData.Path("data", "experiments", "rule_based_ref_mat", "experiment_usual_dict.json");
        string[] Ces(string d, string[] extra) => ["baseline", "ces", "--bases", es, "--samples", "32", "--out", d, .. extra];
        Ok(cli.Run(Ces(cli.PathOf("c-whole"), [])));
        string[] cesTables = ["candidates.csv", "summary.csv", "summary.json", "provenance.csv", "skipped.csv"];
        foreach (int n in new[] { 2, 3 })
            AssertSameTables(cli.PathOf("c-whole"), ShardAndMerge("c", n, Ces), cesTables);
    }

    [Theory]
    [InlineData("3/2", "--shard 3/2: the shard index I must be below N")]
    [InlineData("2/2", "--shard 2/2: the shard index I must be below N")]
    [InlineData("0/0", "--shard 0/0: the shard count N must be at least 1")]
    [InlineData("-1/2", "--shard '-1/2': expected I/N")]
    [InlineData("1", "--shard '1': expected I/N")]
    [InlineData("a/b", "--shard 'a/b': expected I/N")]
    [InlineData("1/2/3", "--shard '1/2/3': expected I/N")]
    [InlineData("4/5", "--shard 4/5: this shard has no base to run (the list has 4)")]
    public void Bad_shard_specs_are_refused(string spec, string message)
    {
        var (code, _, err) = cli.Run(Optimise(cli.PathOf("x"), "--shard", spec));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, err);
        (code, _, err) = cli.Run(["baseline", "ces", "--base", "MgB2", "--samples", "4", "--shard", spec, "--out", cli.PathOf("y")]);
        Assert.Equal(ExitCodes.BadInput, code);
    }

    [Fact]
    public void Mixed_missing_duplicated_and_half_written_shards_are_refused_and_nothing_is_written()
    {
        string s0 = cli.PathOf("s0"), s1 = cli.PathOf("s1"), other = cli.PathOf("other"), out_ = cli.PathOf("merged");
        Ok(cli.Run(Optimise(s0, "--shard", "0/2")));
        Ok(cli.Run(Optimise(s1, "--shard", "1/2")));
        Ok(cli.Run(OptimiseSeeded(other, "8", "--shard", "1/2")));

        void Refused(string message, params string[] dirs)
        {
            var (code, _, err) = cli.Run(["merge", .. dirs, "--out", out_]);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Contains(message, err);
            Assert.False(Directory.Exists(out_), "a refused merge wrote its output folder");
            Assert.Empty(Directory.GetDirectories(cli.Folder, ".merged.merge-*"));
        }

        Refused($"{other} (shard 1/2) is not from the same run as {s0} (shard 0/2): other arguments (seed=8", s0, other);
        Refused("are in none of the given folders; missing shard(s) 1/2", s0);
        Refused($"base 0 (YBa2Cu3O7) is in both {s0} (shard 0/2) and {s0} (shard 0/2)", s0, s0, s1);
        Refused("no manifest.json (not a kiago run folder)", s0, cli.Folder);

        // half-written: a part cut short, a completion record missing, a run still marked running
        string part = Path.Combine(s1, ".parts", "base-0003.candidates.csv");
        var bytes = File.ReadAllBytes(part);
        File.WriteAllBytes(part, bytes[..(bytes.Length / 2)]);
        Refused($"{s1} (shard 1/2): base 3 (Nb3Sn): {part}: {bytes.Length / 2} bytes, its completion record says {bytes.Length}", s0, s1);
        File.WriteAllBytes(part, bytes);
        File.Delete(Path.Combine(s1, ".parts", "base-0001.done.json"));
        Refused("base-0001.done.json: missing (the parts were never recorded as complete)", s0, s1);
        var manifest = Path.Combine(s0, "manifest.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"state\": \"complete\"", "\"state\": \"running\""));
        Refused($"{s0} (shard 0/2) is not complete (state running)", s0, s1);

        // an --out that holds something is refused too
        Directory.CreateDirectory(out_);
        File.WriteAllText(Path.Combine(out_, "keep.txt"), "mine");
        var (c, _, e) = cli.Run(["merge", s0, s1, "--out", out_]);
        Assert.Equal(ExitCodes.BadInput, c);
        Assert.Contains("is not empty", e);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(out_, "keep.txt")));
    }

    [Fact]
    public void Resume_recomputes_a_base_whose_part_does_not_verify()
    {
        string whole = cli.PathOf("whole"), damaged = cli.PathOf("damaged");
        Ok(cli.Run(Optimise(whole)));
        Ok(cli.Run(Optimise(damaged)));
        string part = Path.Combine(damaged, ".parts", "base-0002.candidates.csv");
        File.WriteAllBytes(part, File.ReadAllBytes(part)[..10]);
        var (code, _, err) = cli.Run(Optimise(damaged, "--resume"));
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("base 3 (LaFeAsO) is listed as complete, but", err);
        Assert.Contains("base-0002.candidates.csv", err);
        AssertSameTables(whole, damaged, DesignTables);

        // a shard resumes only as the same shard
        string s = cli.PathOf("s");
        Ok(cli.Run(Optimise(s, "--shard", "0/2")));
        (code, _, err) = cli.Run(Optimise(s, "--shard", "1/2", "--resume"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("is shard 0/2 with bases 0,2; this command asks for shard 1/2 with bases 1,3", err);
    }
}
