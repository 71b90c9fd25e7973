using Kiago.Cli;
using Kiago.Tests.Cli;
using Kiago.Tests.Support;

namespace Kiago.Tests.Cli;

/// <summary>`kiago optimise/substitute/hydride` through the real command line: input errors before compute, and one tiny run.</summary>
public sealed class DesignCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    string[] Tiny(params string[] extra) =>
        ["--candidates", "2", "--steps", "2", "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet", .. extra];

    [Theory]
    [InlineData("unknown element \"Qq\"", "optimise", "--base", "YBa2Qq3O7")]
    [InlineData("--deny: unknown element 'Xx'", "optimise", "--base", "MgB2", "--deny", "Xx")]
    [InlineData("fixed fractions sum to 1.1", "optimise", "--base", "MgB2", "--fix", "H=0.6", "--fix", "Li=0.5")]
    [InlineData("B is both allowed (--allow) and denied (--deny)", "optimise", "--base", "MgB2", "--allow", "Mg,B", "--deny", "B")]
    [InlineData("no element shares oxidation state +9 with La", "substitute", "--base", "LaFeAsO", "--target", "La", "--ox", "9")]
    [InlineData("--allow: At (Z = 85) is not among ElemNet's 86 input elements", "optimise", "--base", "MgB2", "--allow", "At")]
    [InlineData("--max-elements 8 exceeds the 3 elements", "optimise", "--base", "MgB2", "--allow", "Mg,B,O")]
    [InlineData("does not contain Fe", "substitute", "--base", "LaCuO", "--target", "Fe")]
    [InlineData("--tc-model nowhere.kgw: file not found", "optimise", "--base", "MgB2", "--out", "x", "--tc-model", "nowhere.kgw")]
    public void Bad_input_is_rejected_before_compute(string message, params string[] args)
    {
        var (code, _, err) = cli.Run([.. args, "--device", "cpu"]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, err);
    }

    [Theory]
    [InlineData("--target is required", "substitute", "--base", "LaFeAsO")]
    [InlineData("--out DIR is required", "optimise", "--base", "MgB2")]
    [InlineData("no base material", "optimise", "--out", "x")]
    public void A_missing_option_is_usage(string message, params string[] args)
    {
        var (code, _, err) = cli.Run([.. args, "--device", "cpu"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void Reference_json_bases_are_read_and_a_tiny_hydride_run_writes_every_table()
    {
        var configs = SharedData.Path("data", "experiments", "reference_sample_configs", "experiment_usual_hsc.json");
        string outDir = cli.PathOf("run");
        var (code, stdout, err) = cli.Run(["hydride", "--bases", configs, "--out", outDir, "--json", .. Tiny()]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("\"complete\": true", stdout);
        foreach (var f in new[] { "candidates.csv", "summary.csv", "summary.json", "traces.csv", "manifest.json" })
            Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var summary = File.ReadAllLines(Path.Combine(outDir, "summary.csv"));
        Assert.Equal(1 + 6, summary.Length); // six HSC bases: PdH, PtH, Th4H15, H2S, LaH10, SiH4
        var candidates = File.ReadAllLines(Path.Combine(outDir, "candidates.csv"));
        Assert.Equal(1 + 6 * 2, candidates.Length);
        var manifest = File.ReadAllText(Path.Combine(outDir, "manifest.json"));
        Assert.Contains("\"min\": \"H=0.4\"", manifest); // the reference's hydride H is a floor (--min), not --fix
        Assert.Contains("\"fix\": \"\"", manifest);
        Assert.Contains("\"max_elements\": \"2\"", manifest);
        Assert.Contains("\"n_set\": \"1..14\"", manifest);
        Assert.Contains("\"lr\": \"0.04\"", manifest);
    }
}
