using System.Globalization;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Weights;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Cli;

public class EvaluateModelCommandTests
{
    static readonly (string Formula, double Tc)[] Data =
    [
        ("Y1Ba2Cu3O7", 92), ("MgB2", 39), ("Nb3Sn", 18), ("La1.85Sr0.15Cu1O4", 38),
        ("NaCl", 0), ("Fe2O3", 0), ("Si1O2", 0), ("Al2O3", 0), ("K1Br1", 0),
    ];

    static string WriteModel(CliHarness cli, ModelKind kind, string onnx)
    {
        var path = cli.PathOf(kind + ".kgw");
        WeightFile.Write(path, FixtureParityTests.Convert(onnx, kind, fp16: false));
        return path;
    }

    /// <summary>Direct forward of the same model, independent of the command's batching and CSV handling.</summary>
    static double[] DirectPredictions(string kgw, IEnumerable<string> formulas)
    {
        using var backend = new CpuBackend(threads: 1);
        using var model = GraphModel.Load(kgw, backend);
        var list = formulas.ToList();
        var host = new float[list.Count * 118];
        for (int i = 0; i < list.Count; i++) Composition.Parse(list[i]).WriteFractions(host.AsSpan(i * 118, 118));
        using var x = backend.Allocate<float>(host.Length);
        using var y = backend.Allocate<float>(list.Count);
        backend.Upload<float>(host, x);
        model.Forward(list.Count, x, y);
        var result = new float[list.Count];
        backend.Download(y, result);
        return [.. result.Select(v => (double)v)];
    }

    static string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    [Fact]
    public void Tc_model_reports_metrics_on_positives_and_the_negative_rate() // 9 rows, --batch 3: three identical forward steps
    {
        using var cli = new CliHarness();
        var kgw = WriteModel(cli, ModelKind.TcResNet, "tiny_resnet_op13.onnx");
        var predicted = DirectPredictions(kgw, Data.Select(d => d.Formula));
        // the stored "reference" predictions are the direct ones plus a known offset on one row
        var csv = "formula,tc_kelvin,ref\n" + string.Join("\n", Data.Select((d, i) =>
            FormattableString.Invariant($"{d.Formula},{d.Tc},{predicted[i] + (i == 2 ? 0.25 : 0)}"))) + "\n";
        var data = cli.File("data.csv", csv);
        var (code, output, error) = cli.Run("evaluate-model", "--model", kgw, "--data", data, "--reference-column", "ref",
            "--device", "cpu", "--batch", "3", "--negative-threshold", "-1", "--predictions", cli.PathOf("pred.csv"));
        Assert.True(code == 0, error);

        var pos = Enumerable.Range(0, 4).ToArray();
        double mae = pos.Average(i => Math.Abs(predicted[i] - Data[i].Tc));
        double rmse = Math.Sqrt(pos.Average(i => Math.Pow(predicted[i] - Data[i].Tc, 2)));
        double mean = pos.Average(i => Data[i].Tc);
        double r2 = 1 - pos.Sum(i => Math.Pow(predicted[i] - Data[i].Tc, 2)) / pos.Sum(i => Math.Pow(Data[i].Tc - mean, 2));
        Assert.Contains($"rows with tc_kelvin > 0: n = 4, MAE = {F(mae)} K, RMSE = {F(rmse)} K, R² = {F(r2)}", output);
        // threshold -1 K: every negative (prediction >= 0 after the final ReLU) counts as above it
        Assert.Contains("rows with tc_kelvin = 0: n = 5, predicted > -1 K: 5 (rate 1)", output);
        Assert.Contains("max |difference| = 0.25", output);
        var lines = File.ReadAllLines(cli.PathOf("pred.csv"));
        Assert.Equal(Data.Length + 1, lines.Length);
        Assert.Equal(predicted[4], double.Parse(lines[5].Split(',')[3], CultureInfo.InvariantCulture), 6);
    }

    [Fact]
    public void Split_file_selects_rows_and_ElemNet_uses_all_rows()
    {
        using var cli = new CliHarness();
        var kgw = WriteModel(cli, ModelKind.ElemNet, "tiny_mlp_op13.onnx");
        var data = cli.File("ef.csv", "formula,formation_energy_ev_per_atom\nNaCl,-2.1\nMgO,-3.0\nFe,0\nAl2O3,-3.4\n");
        var split = cli.File("split.csv", "formula,other\nMgO,x\nFe,y\n");
        var predicted = DirectPredictions(kgw, ["MgO", "Fe"]);
        double[] target = [-3.0, 0];
        double mae = (Math.Abs(predicted[0] - target[0]) + Math.Abs(predicted[1] - target[1])) / 2;
        var (code, output, error) = cli.Run("evaluate-model", "--model", kgw, "--data", data, "--split-file", split, "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains($"2 rows evaluated, 2 not in {split}", output);
        Assert.Contains($"all rows: n = 2, MAE = {F(mae)} eV/atom", output);
        Assert.DoesNotContain("predicted >", output);
    }

    [Fact]
    public void Bad_input_is_named_with_file_line_and_column()
    {
        using var cli = new CliHarness();
        var kgw = WriteModel(cli, ModelKind.ElemNet, "tiny_mlp_op13.onnx");
        var data = cli.File("ef.csv", "formula,formation_energy_ev_per_atom\nNaCl,-2.1\nMgO,abc\nXx2,1\n");
        var (code, _, error) = cli.Run("evaluate-model", "--model", kgw, "--data", data, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains($"{data}: line 3, column \"formation_energy_ev_per_atom\": 'abc' is not a number", error);
        Assert.Contains($"{data}: line 4, column \"formula\"", error);

        var (code2, _, error2) = cli.Run("evaluate-model", "--model", kgw, "--data", data, "--target-column", "tc", "--device", "cpu");
        Assert.Equal(2, code2);
        Assert.Contains("no column \"tc\"", error2);

        var (code3, _, error3) = cli.Run("evaluate-model", "--model", cli.File("junk.kgw", "not a weight file"), "--data", data, "--device", "cpu");
        Assert.Equal(2, code3);
        Assert.Contains("--model", error3);
        Assert.DoesNotContain("internal error", error3);
    }
}
