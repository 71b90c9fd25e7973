using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets;
using Kiago.Tests.Support;

namespace Kiago.Tests.Cli;

/// <summary>`kiago experiment` end to end on tiny untrained models (the nets fixtures converted to .kgw).</summary>
public sealed class ExperimentCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    string Kgw(string onnx, ModelKind kind)
    {
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, onnx));
        var (name, unit) = ModelKinds.DefaultOutput(kind)!.Value;
        var path = cli.PathOf(Path.ChangeExtension(onnx, ".kgw"));
        WeightFile.Write(path, new WeightModel(kind, [.. Featuriser.Layout(kind).Accepted], name, unit, graph, "{}", "test"));
        return path;
    }

    [Fact]
    public void Normal_experiment_writes_tables_and_both_run_directories()
    {
        string tc = Kgw("tiny_resnet_op13.onnx", ModelKind.TcResNet), ef = Kgw("tiny_mlp_op13.onnx", ModelKind.ElemNet);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_dict.json")));
        string bases = cli.File("bases.json", "[" + doc.RootElement[0].GetRawText() + "]"); // the first base only
        var (code, output, err) = cli.Run("experiment", "normal", "--bases", bases, "--tc-model", tc, "--ef-model", ef,
            "--candidates", "8", "--steps", "4", "--ces-samples", "16", "--integerisation", "15", "--device", "cpu", "--out", cli.PathOf("run"));
        Assert.True(code == 0, err);
        Assert.Contains("paper Table 2", output);
        foreach (var f in new[] { "tables.md", "manifest.json", "kiago/candidates.csv", "kiago/summary.csv", "kiago/traces.csv", "ces/candidates.csv", "ces/provenance.csv" })
            Assert.True(File.Exists(cli.PathOf(Path.Combine("run", f))), f);
        Assert.Equal(1 + 8, File.ReadAllLines(cli.PathOf("run/kiago/candidates.csv")).Length);
        Assert.Equal(1 + 16, File.ReadAllLines(cli.PathOf("run/ces/candidates.csv")).Length);
        Assert.Contains("| 15 |", File.ReadAllText(cli.PathOf("run/tables.md")));

        var (reportCode, _, reportErr) = cli.Run("report", cli.PathOf("run/kiago"));
        Assert.True(reportCode == 0, reportErr);
        Assert.True(File.Exists(cli.PathOf("run/kiago/tc_per_step.png")));
    }

    [Fact]
    public void With_superdiff_the_tables_gain_sd_and_sdcg_and_shards_merge_to_the_whole_run()
    {
        string tc = Kgw("tiny_resnet_op13.onnx", ModelKind.TcResNet), ef = Kgw("tiny_mlp_op13.onnx", ModelKind.ElemNet);
        string denoiser = cli.PathOf("denoiser.kgw");
        var rng = new Random(5);
        WeightFile.Write(denoiser, Kiago.Tests.Design.SuperDiff.LinearDenoisers.Model(
            [.. Enumerable.Range(0, 96 * 97).Select(_ => (float)(0.02 * (rng.NextDouble() - 0.5)))]));
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_dict.json")));
        string bases = cli.File("bases2.json", "[" + doc.RootElement[1].GetRawText() + "," + doc.RootElement[8].GetRawText() + "]");
        string[] Args(string dir, params string[] extra) => ["experiment", "normal", "--bases", bases, "--tc-model", tc, "--ef-model", ef,
            "--candidates", "4", "--steps", "3", "--ces-samples", "8", "--superdiff", denoiser, "--sd-samples", "8", "--sd-steps", "5",
            "--device", "cpu", "--out", cli.PathOf(dir), .. extra];
        var (code, output, err) = cli.Run(Args("whole"));
        Assert.True(code == 0, err);
        Assert.Contains("SuperDiff (SD) and SuperDiff with classifier guidance (SD+CG)", output);
        Assert.Contains("paper SD / SD+CG", output);
        foreach (var f in new[] { "sd/candidates.csv", "sd/sampling.csv", "sdcg/candidates.csv", "sdcg/provenance.csv" })
            Assert.True(File.Exists(cli.PathOf(Path.Combine("whole", f))), f);
        Assert.Equal(3, File.ReadAllLines(cli.PathOf("whole/sdcg/sampling.csv")).Length);
        Assert.Equal(0, cli.Run(Args("s0", "--shard", "0/2")).ExitCode);
        Assert.Equal(0, cli.Run(Args("s1", "--shard", "1/2")).ExitCode);
        var (mergeCode, _, mergeErr) = cli.Run("merge", cli.PathOf("s0"), cli.PathOf("s1"), "--out", cli.PathOf("merged"));
        Assert.True(mergeCode == 0, mergeErr);
        foreach (var f in new[] { "tables.md", "sd/candidates.csv", "sdcg/summary.csv", "sdcg/sampling.csv", "kiago/summary.csv" })
            Assert.Equal(File.ReadAllText(cli.PathOf(Path.Combine("whole", f))), File.ReadAllText(cli.PathOf(Path.Combine("merged", f))));
        var (hydrideCode, _, hydrideErr) = cli.Run("experiment", "hydride", "--bases", bases, "--tc-model", tc, "--ef-model", ef,
            "--superdiff", denoiser, "--out", cli.PathOf("h"));
        Assert.Equal(2, hydrideCode);
        Assert.Contains("normal and substitution experiments only", hydrideErr);
    }

    [Fact]
    public void The_isolated_integerisation_arm_changes_table_1_only_and_is_recorded()
    {
        string tc = Kgw("tiny_resnet_op13.onnx", ModelKind.TcResNet), ef = Kgw("tiny_mlp_op13.onnx", ModelKind.ElemNet);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_dict.json")));
        string bases = cli.File("bases1.json", "[" + doc.RootElement[0].GetRawText() + "]");
        string[] Args(string dir, params string[] extra) => ["experiment", "normal", "--bases", bases, "--tc-model", tc, "--ef-model", ef,
            "--candidates", "6", "--steps", "30", "--ces-samples", "8", "--integerisation", "20", "--device", "cpu", "--out", cli.PathOf(dir), .. extra];
        Assert.Equal(0, cli.Run(Args("standard")).ExitCode);
        var (code, _, err) = cli.Run(Args("isolated", "--integerisation-arm", "bare"));
        Assert.True(code == 0, err);
        // the main KIAGO arm and C-ES are the same run; only Table 1's integer-loss arm (no Ef term, no top-k mask) differs
        Assert.Equal(File.ReadAllText(cli.PathOf("standard/kiago/candidates.csv")), File.ReadAllText(cli.PathOf("isolated/kiago/candidates.csv")));
        Assert.Equal(File.ReadAllText(cli.PathOf("standard/ces/candidates.csv")), File.ReadAllText(cli.PathOf("isolated/ces/candidates.csv")));
        Assert.NotEqual(File.ReadAllText(cli.PathOf("standard/integerisation.csv")), File.ReadAllText(cli.PathOf("isolated/integerisation.csv")));
        Assert.Contains("\"integerisation_arm\": \"bare\"", File.ReadAllText(cli.PathOf("isolated/manifest.json")));
        // without the Ef term alone the arm differs too; without the mask alone it may not (a short run can reach the
        // stage switch with no more than k elements), so that one is only run
        Assert.Equal(0, cli.Run(Args("no-ef", "--integerisation-arm", "no-ef")).ExitCode);
        Assert.NotEqual(File.ReadAllText(cli.PathOf("standard/integerisation.csv")), File.ReadAllText(cli.PathOf("no-ef/integerisation.csv")));
        Assert.Equal(0, cli.Run(Args("no-mask", "--integerisation-arm", "no-mask")).ExitCode);
        Assert.Contains("\"integerisation_arm\": \"no-mask\"", File.ReadAllText(cli.PathOf("no-mask/manifest.json")));
        (code, _, err) = cli.Run(["experiment", "normal", "--bases", bases, "--tc-model", tc, "--ef-model", ef, "--integerisation-arm", "bare", "--out", cli.PathOf("bad")]);
        Assert.Equal(2, code);
        Assert.Contains("--integerisation-arm changes the Table-1 arm: it needs the normal experiment and --integerisation", err);
        (code, _, err) = cli.Run(["experiment", "normal", "--bases", bases, "--tc-model", tc, "--ef-model", ef, "--integerisation", "20", "--integerisation-arm", "half", "--out", cli.PathOf("bad2")]);
        Assert.Equal(2, code);
        Assert.Contains("--integerisation-arm: \"half\" is not one of reference, no-ef, no-mask, bare", err);
    }

    [Fact]
    public void Unknown_kind_and_bad_integerisation_list_are_user_errors()
    {
        string bases = SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_dict.json");
        var (code, _, err) = cli.Run("experiment", "weird", "--bases", bases, "--tc-model", "a", "--ef-model", "b", "--out", cli.PathOf("x"));
        Assert.Equal(2, code);
        Assert.Contains("experiment \"weird\"", err);
        (code, _, err) = cli.Run("experiment", "normal", "--bases", bases, "--tc-model", "a", "--ef-model", "b", "--integerisation", "15,x", "--out", cli.PathOf("x"));
        Assert.Equal(2, code);
        Assert.Contains("--integerisation: \"x\"", err);
    }
}
