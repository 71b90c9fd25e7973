using Kiago.Tests.Cli;
using Kiago.Tests.Support;

namespace Kiago.Tests.Cli;

public sealed class BaselineCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public void Baseline_writes_the_optimisers_tables_deterministically_and_report_reads_them()
    {
        string a = cli.PathOf("a"), b = cli.PathOf("b");
        var (code, _, err) = cli.Run("baseline", "ces", "--base", "LaFeAsO", "--samples", "64", "--out", a);
        Assert.True(code == 0, err);
        Assert.Equal(0, cli.Run("baseline", "ces", "--base", "LaFeAsO", "--samples", "64", "--out", b).ExitCode);
        foreach (var f in new[] { "candidates.csv", "summary.csv", "provenance.csv" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));
        var lines = File.ReadAllLines(Path.Combine(a, "candidates.csv"));
        Assert.Equal(65, lines.Length);
        Assert.StartsWith("base_index,base,rank,candidate,degenerate,stage1_composition", lines[0]);
        Assert.Equal("base_index,base,reason\n", File.ReadAllText(Path.Combine(a, "skipped.csv")));

        var (reportCode, _, reportErr) = cli.Run("report", a);
        Assert.True(reportCode == 0, reportErr);
        Assert.Contains("traces.csv not found", reportErr);
        Assert.True(File.Exists(Path.Combine(a, "report.md")));
    }

    [Fact]
    public void Substitution_and_hydride_modes_run_from_the_reference_lists()
    {
        string es = SharedData.Path("data", "experiments", "rule_based_ref_mat", "experiment_element_substitution_dict.json");
        var (code, _, err) = cli.Run("baseline", "ces", "--bases", es, "--mode", "substitution", "--samples", "8", "--out", cli.PathOf("es"));
        Assert.True(code == 0, err);
        Assert.Equal(1 + 14 * 8, File.ReadAllLines(cli.PathOf("es/candidates.csv")).Length);

        string hsc = SharedData.Path("data", "experiments", "rule_based_ref_mat", "experiment_hsc_dict.json");
        (code, _, err) = cli.Run("baseline", "ces", "--bases", hsc, "--mode", "hydride", "--samples", "8", "--out", cli.PathOf("h"));
        Assert.True(code == 0, err);
        Assert.Contains("H15Th4: skipped: base has 19 atoms", err);
    }

    [Theory]
    [InlineData("--mode", "weird", "--mode \"weird\"")]
    [InlineData("--samples", "0", "samples must be >= 1")]
    [InlineData("--tc-model", "/nonexistent.kgw", "--tc-model /nonexistent.kgw: file not found")]
    public void Bad_options_are_user_errors(string option, string value, string message)
    {
        var (code, _, err) = cli.Run("baseline", "ces", "--base", "MgB2", option, value, "--out", cli.PathOf("x"));
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void Base_and_bases_together_are_refused()
    {
        var (code, _, err) = cli.Run("baseline", "ces", "--base", "MgB2", "--bases", "x.json", "--out", cli.PathOf("x"));
        Assert.Equal(Kiago.Cli.ExitCodes.Usage, code);
        Assert.Contains("exactly one of --base", err);
    }
}
