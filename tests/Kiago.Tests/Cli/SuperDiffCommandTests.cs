using Kiago.Nets.Weights;
using Kiago.Tests.Design.SuperDiff;
using Kiago.Tests.Nets;
using Kiago.Tests.Nets.Uncertainty;

namespace Kiago.Tests.Cli;

/// <summary>`kiago baseline superdiff`: the optimiser's columns, determinism, the sampling record, and refusals before sampling.</summary>
public sealed class SuperDiffCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    (string Denoiser, string Tc, string Ef) Models()
    {
        string denoiser = cli.PathOf("denoiser.kgw"), tc = cli.PathOf("tc.kgw"), ef = cli.PathOf("ef.kgw");
        if (!File.Exists(denoiser))
        {
            var rng = new Random(3);
            var w = Enumerable.Range(0, 96 * 97).Select(_ => (float)(0.02 * (rng.NextDouble() - 0.5))).ToArray();
            WeightFile.Write(denoiser, LinearDenoisers.Model(w));
            WeightFile.Write(tc, RandomMembers.Mlp(ModelKind.Fractions, 1, outputScale: 20, outputBias: 30));
            WeightFile.Write(ef, RandomMembers.Mlp(ModelKind.Fractions, 2, output: ("ef", "eV/atom")));
        }
        return (denoiser, tc, ef);
    }

    (int Code, string Err) Run(string dir, params string[] extra)
    {
        var (denoiser, tc, ef) = Models();
        string[] defaults = [.. new[] { ("--samples", "16"), ("--steps", "10"), ("--ilvr-scale", "1,4") }
            .Where(d => !extra.Contains(d.Item1)).SelectMany(d => new[] { d.Item1, d.Item2 })];
        var (code, _, err) = cli.Run(["baseline", "superdiff", "--denoiser", denoiser, "--tc-model", tc, "--ef-model", ef,
            "--device", "cpu", "--out", cli.PathOf(dir), .. defaults, .. extra]);
        return (code, err);
    }

    [Fact]
    public void Superdiff_writes_the_optimisers_tables_and_its_sampling_record_deterministically()
    {
        var (code, err) = Run("a", "--base", "Ba2Cu3O7Y", "--guidance", "0.01", "--decompose");
        Assert.True(code == 0, err);
        Assert.Equal(0, Run("b", "--base", "Ba2Cu3O7Y", "--guidance", "0.01", "--decompose", "--threads", "1").Code);
        foreach (var f in new[] { "candidates.csv", "summary.csv", "sampling.csv", "provenance.csv" })
        {
            var (x, y) = (File.ReadAllLines(cli.PathOf($"a/{f}")), File.ReadAllLines(cli.PathOf($"b/{f}")));
            var first = x.Zip(y).Select((p, i) => (p, i)).FirstOrDefault(q => q.p.First != q.p.Second);
            Assert.True(x.SequenceEqual(y), $"{f} line {first.i}: {first.p.First} | {first.p.Second}");
        }
        var lines = File.ReadAllLines(cli.PathOf("a/candidates.csv"));
        Assert.StartsWith("base_index,base,rank,candidate,degenerate,stage1_composition", lines[0]);
        Assert.InRange(lines.Length - 1, 1, 16);
        var sampling = File.ReadAllLines(cli.PathOf("a/sampling.csv"));
        Assert.Equal(2, sampling.Length);
        var header = sampling[0].Split(',');
        var row = sampling[1].Split(',');
        Assert.Equal("16", row[Array.IndexOf(header, "samples")]);
        Assert.Equal("1 4", row[Array.IndexOf(header, "ilvr_scales")]);
        foreach (var column in new[] { "denoise_delta_tc_K", "ilvr_delta_tc_K", "guidance_delta_tc_K", "sum_delta_tc_K" })
            Assert.True(double.TryParse(row[Array.IndexOf(header, column)], System.Globalization.CultureInfo.InvariantCulture, out _), column);
        // ILVR at scale 1 ends on the base itself: the first half of the samples is Ba2Cu3O7Y (amounts as given)
        var provenance = File.ReadAllLines(cli.PathOf("a/provenance.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        var baseComposition = Kiago.Chemistry.Composition.Parse("Ba2Cu3O7Y");
        Assert.All(provenance.Where(p => p[4] == "1"), p => Assert.Equal(baseComposition, Kiago.Chemistry.Composition.Parse(p[2])));
        Assert.Contains(provenance, p => p[4] == "4");
        Assert.Contains("weights", File.ReadAllText(cli.PathOf("a/manifest.json")));
        Assert.Contains("denoiser", File.ReadAllText(cli.PathOf("a/manifest.json")));
    }

    [Fact]
    public void A_predictor_given_as_denoiser_is_refused_with_the_reason()
    {
        var (_, tc, _) = Models();
        var (code, _, err) = cli.Run("baseline", "superdiff", "--denoiser", tc, "--base", "MgB2", "--tc-model", tc, "--out", cli.PathOf("x"));
        Assert.Equal(2, code);
        Assert.Contains("not a denoiser", err);
    }

    [Theory]
    [InlineData("--base", "Bk2O3", "outside the denoiser's elements")]
    [InlineData("--ilvr-scale", "0", "--ilvr-scale \"0\"")]
    [InlineData("--steps", "5000", "--steps 5000")]
    [InlineData("--sampler", "euler", "--sampler \"euler\"")]
    [InlineData("--thresholds", "x", "--thresholds \"x\"")]
    public void Bad_options_are_refused_before_sampling(string option, string value, string message)
    {
        string[] args = option == "--base" ? [option, value] : ["--base", "MgB2", option, value];
        var (code, err) = Run("bad", args);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
        Assert.DoesNotContain("step 1/", err);
    }

    [Fact]
    public void Guidance_and_the_threshold_scan_without_a_tc_model_are_refused()
    {
        var (denoiser, _, _) = Models();
        var (code, _, err) = cli.Run("baseline", "superdiff", "--denoiser", denoiser, "--base", "MgB2", "--guidance", "0.1",
            "--samples", "4", "--steps", "3", "--out", cli.PathOf("g"));
        Assert.Equal(2, code);
        Assert.Contains("--guidance needs --tc-model", err);
        (code, _, err) = cli.Run("baseline", "superdiff", "--denoiser", denoiser, "--base", "MgB2", "--samples", "4", "--steps", "3", "--out", cli.PathOf("t"));
        Assert.Equal(2, code);
        Assert.Contains("pass --tc-model, or one --thresholds value", err);
        (code, _, err) = cli.Run("baseline", "superdiff", "--denoiser", denoiser, "--base", "MgB2", "--samples", "4", "--steps", "3",
            "--thresholds", "0.05", "--out", cli.PathOf("ok"));
        Assert.True(code == 0, err);
    }

    [Fact]
    public void Convert_refuses_a_denoiser_whose_input_is_not_96_amounts_and_a_timestep()
    {
        string onnx = Path.Combine(NetsFixtures.Folder, "byo", "mlp118_op13.onnx");
        var (code, _, err) = cli.Run("convert", onnx, "--input", "denoiser", "-o", cli.PathOf("d.kgw"));
        Assert.Equal(2, code);
        Assert.Contains("[97]", err);
    }
}
