using System.CommandLine;
using Kiago.Cli;

namespace Kiago.Tests.Nets;

/// <summary>`kiago convert`, `predict` and `inspect` in process, on the committed fixtures.</summary>
public sealed class NetsCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("kiago-nets-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand("test");
        foreach (var c in CommandCatalog.All()) root.Subcommands.Add(c);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliRunner.Run(root, args, output, error);
        return (code, output.ToString().Replace("\r\n", "\n"), error.ToString());
    }

    static string Fixture(string name) => Path.Combine(NetsFixtures.Folder, name);

    string Convert(string onnx, string kgw, params string[] extra)
    {
        string path = Path.Combine(dir, kgw);
        var (code, output, error) = Run(["convert", Fixture(onnx), "-o", path, .. extra]);
        Assert.True(code == ExitCodes.Ok, error);
        Assert.Contains(path, output);
        return path;
    }

    [Fact]
    public void Convert_predict_inspect_round_trip()
    {
        string card = Path.Combine(dir, "card.json");
        File.WriteAllText(card, """{"training_data":[{"file":"supercon.csv","sha256":"ab"}],"split":"random 0.05/0.15","metrics":{"mae_K":9.5}}""");
        string tc = Convert("tiny_resnet_op13.onnx", "tc.kgw", "--card", card);
        string ef = Convert("tiny_mlp_op13.onnx", "ef.kgw", "--fp16");
        string csv = Path.Combine(dir, "in.csv");
        File.WriteAllText(csv, "name,composition\na,MgB2\nb,HeH\n");
        string outCsv = Path.Combine(dir, "out.csv");
        var (code, _, error) = Run("predict", "--in", csv, "--formula-column", "composition", "--tc-model", tc, "--ef-model", ef, "--out", outCsv, "--batch", "1");
        Assert.True(code == ExitCodes.Ok, error);
        var lines = File.ReadAllLines(outCsv);
        Assert.Equal("formula,tc_K,tc_sigma_K,tc_domain,ef_eV_per_atom,ef_sigma_eV_per_atom,ef_domain,ef_ignored_elements", lines[0]);
        Assert.StartsWith("MgB2,", lines[1]);
        Assert.Matches(@"^MgB2,[-0-9.eE]+,,,[-0-9.eE]+,,,$", lines[1]); // no .kgu beside the models: σ and domain empty
        Assert.EndsWith(",He", lines[2]);
        Assert.Contains("tc: 2/2", error); // progress on stderr when batched
        Assert.Contains("tc.kgw: no uncertainty data (tc.kgu not found beside it)", error);

        var (icode, inspect, _) = Run("inspect", tc);
        Assert.Equal(ExitCodes.Ok, icode);
        Assert.Contains("kind:        tc-resnet", inspect);
        Assert.Contains("supercon.csv", inspect);
        Assert.Contains("source_sha256", inspect);
    }

    [Fact]
    public void Predict_matches_the_library_for_the_same_formula()
    {
        string tc = Convert("tiny_resnet_op13.onnx", "tc.kgw");
        var (code, output, error) = Run("predict", "MgB2", "--tc-model", tc, "--no-ef");
        Assert.True(code == ExitCodes.Ok, error);
        float cli = float.Parse(output.Split('\n')[1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        using var backend = new Kiago.Kernels.Cpu.CpuBackend(1);
        using var model = Kiago.Nets.GraphModel.Load(tc, backend);
        var x = new float[118];
        x[11] = 1f / 3; x[4] = 2f / 3; // Mg, B
        using var xb = backend.Allocate<float>(118);
        using var yb = backend.Allocate<float>(1);
        backend.Upload<float>(x, xb);
        model.Forward(1, xb, yb);
        var y = new float[1];
        backend.Download(yb, y);
        Assert.Equal(y[0], cli, 5);
    }

    [Fact]
    public void Missing_model_files_are_named_and_defaults_are_found_from_any_directory()
    {
        var (code, _, error) = Run("predict", "MgB2", "--tc-model", Path.Combine(dir, "none.kgw"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("none.kgw: file not found", error);
        var cwd = Environment.CurrentDirectory;
        try
        {
            Environment.CurrentDirectory = dir;
            (code, _, error) = Run("predict", "MgB2");
        }
        finally { Environment.CurrentDirectory = cwd; }
        // the defaults are the models shipped beside the binary (issue 14), so another working directory still finds them
        Assert.True(code == ExitCodes.Ok, error);
    }

    [Fact]
    public void Bad_inputs_are_named()
    {
        string tc = Convert("tiny_resnet_op13.onnx", "tc.kgw");
        string csv = Path.Combine(dir, "bad.csv");
        File.WriteAllText(csv, "formula\nMgB2\nQq3\n");
        var (code, _, error) = Run("predict", "--in", csv, "--tc-model", tc, "--no-ef");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("bad.csv line 3, column \"formula\"", error);

        var (c2, _, e2) = Run("convert", Path.Combine(dir, "tc.kgw"), "-o", Path.Combine(dir, "x.kgw"));
        Assert.Equal(ExitCodes.BadInput, c2);
        Assert.Contains("tc.kgw: byte", e2);

        var (c3, _, e3) = Run("convert", Fixture("tiny_mlp_op13.onnx"), "-o", Path.Combine(dir, "x.kgw"), "--kind", "tc-resnet");
        Assert.Equal(ExitCodes.BadInput, c3);
        Assert.Contains("takes per-sample input [4,7,32]", e3);
        Assert.False(File.Exists(Path.Combine(dir, "x.kgw")));
        var (c4, _, e4) = Run("convert", Fixture("tiny_mlp_op13.onnx"), "-o", Path.Combine(dir, "x.kgw"), "--input", "image");
        Assert.Equal(ExitCodes.BadInput, c4);
        Assert.Contains("takes per-sample input [4,7,32]", e4);
        var (c5, _, e5) = Run("convert", Fixture("tiny_mlp_op13.onnx"), "-o", Path.Combine(dir, "x.kgw"), "--input", "tokenz");
        Assert.Equal(ExitCodes.BadInput, c5);
        Assert.Contains("--input: unknown input 'tokenz' (expected image, tc-resnet", e5);
    }

    [Fact]
    public void A_model_on_the_118_fractions_converts_as_fractions_once_its_quantity_is_named_and_fills_the_tc_slot()
    {
        string onnx = "byo/mlp118_norm_op13.onnx";
        var (c1, _, e1) = Run("convert", Fixture(onnx), "-o", Path.Combine(dir, "m.kgw"));
        Assert.Equal(ExitCodes.BadInput, c1);
        Assert.Contains("a fractions model has no default output quantity: pass --output-name and --output-unit", e1);
        Assert.False(File.Exists(Path.Combine(dir, "m.kgw")));

        string tc = Convert(onnx, "m.kgw", "--output-name", "tc", "--output-unit", "K");
        var (code, output, error) = Run("predict", "YBa2Cu3O7", "MgB2", "--tc-model", tc, "--no-ef", "--device", "cpu");
        Assert.True(code == ExitCodes.Ok, error);
        var rows = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("formula,tc_K", rows[0]);
        double Tc(int row) => double.Parse(rows[row].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(Tc(1)) && double.IsFinite(Tc(2)) && Tc(1) != Tc(2), output);

        // the same file as an Ef model is refused by its quantity, not its input
        var (c2, _, e2) = Run("predict", "MgB2", "--no-tc", "--ef-model", tc, "--device", "cpu");
        Assert.Equal(ExitCodes.BadInput, c2);
        Assert.Contains("predicts tc in K, but --ef-model needs a model of ef in eV/atom", e2);

        // and it steers the optimiser as the Tc objective
        string run = Path.Combine(dir, "run");
        var (c3, _, e3) = Run("optimise", "--base", "YBa2Cu3O7", "--tc-model", tc, "--ef-model", "random", "--candidates", "8", "--steps", "20",
            "--device", "cpu", "--out", run);
        Assert.True(c3 == ExitCodes.Ok, e3);
        Assert.True(File.ReadAllLines(Path.Combine(run, "candidates.csv")).Length > 1);
    }

    string TensorFile(string name, long[] dims, IEnumerable<float> values)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllBytes(path, new ProtoWriter().PackedVarints(1, dims).Varint(2, 1).PackedFloats(4, values).ToArray());
        return path;
    }

    [Fact]
    public void Verify_compares_with_PyTorch_and_refuses_to_write_on_mismatch()
    {
        // PyTorch's reference for the tiny ResNet, as an ONNX test pair on the model input (the image).
        var reference = NetsFixtures.Get("tiny_resnet");
        int batch = reference.X.Length;
        var image = new float[batch * 896];
        for (int b = 0; b < batch; b++)
            for (int z = 1; z <= 118; z++)
                image[b * 896 + Kiago.Nets.Featurisers.PeriodicTableLayout.FlatIndex(z)] = (float)reference.X[b][z - 1];
        string input = TensorFile("input_0.pb", [batch, 4, 7, 32], image);
        string good = TensorFile("output_0.pb", [batch, 1], reference.Y.Select(v => (float)v));
        string bad = TensorFile("wrong.pb", [batch, 1], reference.Y.Select(v => (float)v * 1.01f));
        string kgw = Path.Combine(dir, "v.kgw");

        var (code, _, error) = Run("convert", Fixture("tiny_resnet_nofold_op13.onnx"), "-o", kgw, "--verify", input, good);
        Assert.True(code == ExitCodes.Ok, error);
        Assert.Contains("verify: 6 values", error);

        File.Delete(kgw);
        (code, _, error) = Run("convert", Fixture("tiny_resnet_nofold_op13.onnx"), "-o", kgw, "--verify", input, bad);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(".kgw not written", error);
        Assert.False(File.Exists(kgw));
    }
}
