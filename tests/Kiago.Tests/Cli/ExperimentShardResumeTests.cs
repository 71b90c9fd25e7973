using System.Diagnostics;
using Kiago.Cli;
using Kiago.Cli.Runs;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets;
using Kiago.Tests.Support;

namespace Kiago.Tests.Cli;

/// <summary>
/// `kiago experiment` survives long runs: killed mid-run then --resume equals an uninterrupted run byte for byte;
/// --shard and --only slices merge to the same tables as one run; per-base wall time is in the manifest.
/// </summary>
public sealed class ExperimentShardResumeTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static readonly string[] Outputs =
    [
        "tables.md", "integerisation.csv", "kiago/candidates.csv", "kiago/traces.csv", "kiago/summary.csv", "kiago/summary.json",
        "kiago/skipped.csv", "ces/candidates.csv", "ces/summary.csv", "ces/summary.json", "ces/provenance.csv", "ces/skipped.csv",
    ];

    string Kgw(string onnx, ModelKind kind)
    {
        var path = cli.PathOf(Path.ChangeExtension(onnx, ".kgw"));
        if (File.Exists(path)) return path;
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, onnx));
        var (name, unit) = ModelKinds.DefaultOutput(kind)!.Value;
        WeightFile.Write(path, new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], name, unit, graph, "{}", "test"));
        return path;
    }

    /// <summary>The first <paramref name="count"/> bases of the reference's Normal list.</summary>
    string BaseList(int count)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_dict.json")));
        return cli.File("bases.json", "[" + string.Join(",", doc.RootElement.EnumerateArray().Take(count).Select(e => e.GetRawText())) + "]");
    }

    string[] Experiment(string bases, string outDir, int candidates, params string[] extra) =>
        ["experiment", "normal", "--bases", bases, "--tc-model", Kgw("tiny_resnet_op13.onnx", ModelKind.TcResNet),
         "--ef-model", Kgw("tiny_mlp_op13.onnx", ModelKind.ElemNet), "--candidates", candidates.ToString(), "--steps", "6",
         "--ces-samples", "24", "--integerisation", "15,25", "--device", "cpu", "--out", outDir, .. extra];

    void Ok((int ExitCode, string Out, string Err) result) => Assert.True(result.ExitCode == ExitCodes.Ok, result.Err);

    void AssertSameOutputs(string expected, string actual)
    {
        foreach (var f in Outputs)
            Assert.True(File.ReadAllBytes(Path.Combine(expected, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, f))),
                $"{f} of {actual} differs from the uninterrupted run");
    }

    [Fact]
    public void Shards_and_only_slices_merge_to_the_same_tables_as_one_run()
    {
        string bases = BaseList(4);
        string whole = cli.PathOf("whole");
        var (code, stdout, err) = cli.Run(Experiment(bases, whole, 8));
        Assert.True(code == 0, err);
        Assert.Contains("4 of 4 bases", stdout);
        var manifest = RunManifest.Read(Path.Combine(whole, "manifest.json"));
        Assert.Equal([0, 1, 2, 3], manifest.BaseSeconds.Keys.Order());
        Assert.All(manifest.BaseSeconds.Values, s => Assert.True(s > 0));

        foreach (int n in new[] { 2, 3 })
        {
            var dirs = Enumerable.Range(0, n).Select(i => cli.PathOf($"s{n}-{i}")).ToList();
            for (int i = 0; i < n; i++) Ok(cli.Run(Experiment(bases, dirs[i], 8, "--shard", $"{i}/{n}")));
            Ok(cli.Run(["merge", .. dirs, "--out", cli.PathOf($"merged{n}")]));
            AssertSameOutputs(whole, cli.PathOf($"merged{n}"));
        }

        // one base by name, the rest by index and shard: the same tables again
        var names = manifest.Bases;
        Ok(cli.Run(Experiment(bases, cli.PathOf("one"), 8, "--only", names[2])));
        Ok(cli.Run(Experiment(bases, cli.PathOf("rest"), 8, "--only", "0,1,3")));
        Assert.Contains("1 of 4 bases", File.ReadAllText(cli.PathOf("one/tables.md")));
        Ok(cli.Run(["merge", cli.PathOf("one"), cli.PathOf("rest"), "--out", cli.PathOf("merged-only")]));
        AssertSameOutputs(whole, cli.PathOf("merged-only"));

        var (c, _, e) = cli.Run(Experiment(bases, cli.PathOf("bad"), 8, "--only", "NoSuchBase"));
        Assert.Equal(ExitCodes.BadInput, c);
        Assert.Contains("--only NoSuchBase: no such base in the list", e);
    }

    [Fact]
    public void Killed_then_resumed_experiment_equals_an_uninterrupted_one_byte_for_byte()
    {
        string bases = BaseList(3);
        string whole = cli.PathOf("whole"), killed = cli.PathOf("killed");
        Ok(cli.Run(Experiment(bases, whole, 48)));

        // the real thing: the kiago binary in its own process, SIGKILLed as soon as the first base is on disk
        var args = Experiment(bases, killed, 48);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiago.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using (var process = Process.Start(start)!)
        {
            process.ErrorDataReceived += (_, _) => { };
            process.OutputDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            process.BeginOutputReadLine();
            var clock = Stopwatch.StartNew();
            string firstRecord = Path.Combine(killed, ".parts", "base-0000.done.json");
            while (!File.Exists(firstRecord) && !process.HasExited && clock.Elapsed < TimeSpan.FromSeconds(120)) Thread.Sleep(5);
            Assert.False(process.HasExited, "the run ended before it could be killed");
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        var state = RunManifest.Read(Path.Combine(killed, "manifest.json"));
        Assert.NotEqual("complete", state.State);
        Assert.True(state.Completed.Count < 3, "the kill came too late to interrupt anything");

        var (code, stdout, err) = cli.Run([.. args, "--resume"]);
        Assert.True(code == 0, err);
        Assert.Contains("3 of 3 bases", stdout);
        AssertSameOutputs(whole, killed);

        // resuming a complete run computes nothing and changes nothing
        Ok(cli.Run([.. args, "--resume"]));
        AssertSameOutputs(whole, killed);
        // and a resume with other arguments is refused
        var (c, _, e) = cli.Run([.. Experiment(bases, killed, 40), "--resume"]);
        Assert.Equal(ExitCodes.BadInput, c);
        Assert.Contains("other arguments (candidates=40", e);
    }
}
