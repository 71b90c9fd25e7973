using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Weights;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Cli;

/// <summary>`--objective NAME=FILE.kgw:WEIGHT[:maximise|minimise]`: a third predictor in the loss and its column in candidates.csv.</summary>
public sealed class ObjectiveCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    /// <summary>
    /// A BYO fixture as a .kgw of "score": by default the MLP on the 118 fractions (LayerNorm, SiLU, Sigmoid, a `* std + mean`
    /// head); tokens8_op17.onnx is the transformer over element tokens (its input signature detected from its two inputs).
    /// </summary>
    string ScoreModel(string onnx = "mlp118_norm_op13.onnx")
    {
        string path = cli.PathOf(Path.GetFileNameWithoutExtension(onnx) + ".kgw");
        if (!File.Exists(path))
            WeightFile.Write(path, ModelConverter.Convert(Path.Combine(NetsFixtures.Folder, "byo", onnx),
                new ConvertOptions(OutputName: "score", OutputUnit: "1")));
        return path;
    }

    public static TheoryData<string> Fixtures => new("mlp118_norm_op13.onnx", "tokens8_op17.onnx");

    (string Dir, string[] Header, List<string[]> Rows) Optimise(string name, params string[] extra)
    {
        string dir = cli.PathOf(name);
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--candidates", "12", "--steps", "40", "--tc-model", "random",
            "--ef-model", "random", "--device", "cpu", "--quiet", "--out", dir, .. extra]);
        Assert.True(code == ExitCodes.Ok, err);
        var lines = File.ReadAllLines(Path.Combine(dir, "candidates.csv"));
        // the reasons column may hold commas inside quotes; the objective columns come after it, so split from the right
        return (dir, lines[0].Split(','), [.. lines.Skip(1).Select(l => l.Split(','))]);
    }

    static double Last(string[] row) => row[^1].Length == 0 ? double.NaN : double.Parse(row[^1], CultureInfo.InvariantCulture);

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void The_objective_column_is_the_models_prediction_on_each_formula_and_the_manifest_names_the_file(string onnx)
    {
        string model = ScoreModel(onnx);
        var (dir, header, rows) = Optimise("run", "--objective", $"score={model}:1:maximise");
        Assert.Equal("score", header[^1]);
        int formulaColumn = Array.IndexOf(header, "formula");
        using var backend = new CpuBackend(threads: 1);
        using var net = GraphModel.Load(model, backend);
        int checkedRows = 0;
        foreach (var row in rows)
        {
            if (row[formulaColumn].Length == 0) { Assert.True(double.IsNaN(Last(row))); continue; }
            var x = new float[118];
            Composition.Parse(row[formulaColumn]).WriteFractions(x);
            using var xb = backend.Allocate<float>(118);
            using var yb = backend.Allocate<float>(1);
            backend.Upload<float>(x, xb);
            net.Forward(1, xb, yb);
            var y = new float[1];
            backend.Download(yb, y);
            Assert.True(Math.Abs(y[0] - Last(row)) <= 1e-5 * (1 + Math.Abs(y[0])), $"{row[formulaColumn]}: column {Last(row)}, model {y[0]}");
            checkedRows++;
        }
        Assert.True(checkedRows > 0, "no candidate had a formula");
        var manifest = File.ReadAllText(Path.Combine(dir, "manifest.json"));
        Assert.Contains($"\"objective\": \"score={model}:1:maximise\"", manifest.Replace("\\\\", "\\"));
        Assert.Contains("\"objective-score\": ", manifest);
        Assert.Contains("sha256:", manifest);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Maximising_the_objective_ends_higher_than_minimising_it(string onnx)
    {
        string model = ScoreModel(onnx);
        double Mean(List<string[]> rows) => rows.Select(Last).Where(double.IsFinite).Average();
        var up = Optimise("up", "--objective", $"score={model}:20:maximise").Rows;
        var down = Optimise("down", "--objective", $"score={model}:20:minimise").Rows;
        var none = Optimise("none").Header;
        Assert.DoesNotContain("score", none);
        Assert.True(Mean(up) > Mean(down) + 1, $"maximised mean {Mean(up)} vs minimised {Mean(down)}");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Shards_of_a_run_with_an_objective_merge_to_the_whole_run_byte_for_byte(string onnx)
    {
        string model = ScoreModel(onnx);
        string[] Run(string dir, params string[] extra) => ["optimise", "--base", "MgB2", "--base", "NaCl", "--candidates", "6", "--steps", "10",
            "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet", "--objective", $"score={model}:1", "--out", dir, .. extra];
        string whole = cli.PathOf("whole"), a = cli.PathOf("s0"), b = cli.PathOf("s1"), merged = cli.PathOf("merged");
        foreach (var args in new[] { Run(whole), Run(a, "--shard", "0/2"), Run(b, "--shard", "1/2") })
        {
            var (code, _, err) = cli.Run(args);
            Assert.True(code == ExitCodes.Ok, err);
        }
        var (mc, _, me) = cli.Run(["merge", b, a, "--out", merged]);
        Assert.True(mc == ExitCodes.Ok, me);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "candidates.csv")), File.ReadAllBytes(Path.Combine(merged, "candidates.csv")));
        Assert.EndsWith(",score", File.ReadLines(Path.Combine(merged, "candidates.csv")).First());
    }

    [Theory]
    [InlineData("score", "no NAME= before the file")]
    [InlineData("Score=m.kgw:1", "must be lower-case letters")]
    [InlineData("tc_rounded=m.kgw:1", "is taken by a column of candidates.csv")]
    [InlineData("score=m.kgw", "no :WEIGHT after the file")]
    [InlineData("score=m.kgw:lots", "the weight 'lots' is not a finite number")]
    [InlineData("score=m.kgw:-2:maximise", "is negative")]
    [InlineData("score=nowhere.kgw:1", "--objective score nowhere.kgw: file not found")]
    public void Bad_objectives_are_refused_before_compute(string spec, string message)
    {
        var (code, _, err) = cli.Run(["optimise", "--base", "MgB2", "--out", cli.PathOf("bad"), "--tc-model", "random", "--ef-model", "random",
            "--device", "cpu", "--objective", spec]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, err);
        Assert.False(File.Exists(cli.PathOf("bad/candidates.csv")));
    }

    [Fact]
    public void The_same_name_twice_is_refused()
    {
        string model = ScoreModel();
        var (code, _, err) = cli.Run(["optimise", "--base", "MgB2", "--out", cli.PathOf("twice"), "--tc-model", "random", "--ef-model", "random",
            "--device", "cpu", "--objective", $"score={model}:1", "--objective", $"score={model}:2"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("the name 'score' is given twice", err);
    }
}
