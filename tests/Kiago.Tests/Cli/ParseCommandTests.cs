using System.Text.Json;
using Kiago.Cli;

namespace Kiago.Tests.Cli;

public sealed class ParseCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public void Csv_has_canonical_normalised_and_reduced()
    {
        var (code, output, _) = cli.Run("parse", "Fe4O6");
        Assert.Equal(ExitCodes.Ok, code);
        // Fe4O6: canonical in Z order O6Fe4; fractions 0.6/0.4; reduced by gcd 2 → O3Fe2; 10 atoms.
        Assert.Equal("formula,canonical,normalised,reduced,total_atoms\nFe4O6,O6Fe4,O0.6Fe0.4,O3Fe2,10\n", output);
    }

    [Fact]
    public void Json_lists_amounts_and_fractions()
    {
        var (code, output, _) = cli.Run("parse", "--json", "NaCl");
        Assert.Equal(ExitCodes.Ok, code);
        var row = JsonDocument.Parse(output).RootElement[0];
        Assert.Equal("Na1Cl1", row.GetProperty("canonical").GetString());
        Assert.Equal(0.5, row.GetProperty("fractions").GetProperty("Cl").GetDouble());
    }

    [Fact]
    public void Bad_formula_is_reported_with_column_and_others_still_print()
    {
        var (code, output, error) = cli.Run("parse", "NaCl", "BaXx2");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("formula 2: unknown element \"Xx\" at column 3", error);
        Assert.Contains("NaCl,Na1Cl1", output);
        Assert.DoesNotContain("   at ", error); // no stack trace
    }

    [Fact]
    public void Missing_argument_is_a_usage_error()
    {
        var (code, _, error) = cli.Run("parse");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("kiago --help", error);
    }
}
