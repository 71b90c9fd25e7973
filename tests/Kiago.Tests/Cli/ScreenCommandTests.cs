using Kiago.Cli;
using Kiago.Cli.IO;

namespace Kiago.Tests.Cli;

public sealed class ScreenCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static List<string[]> ReadCsv(string path)
    {
        using var reader = CsvReader.Open(path);
        return [.. reader.ReadAll().Select(r => r.Fields)];
    }

    [Fact]
    public void Screens_good_rows_and_flags_bad_ones()
    {
        var input = cli.File("in.csv", "id,formula\n1,NaCl\n2,BaXx2\n3,MgB2\n4,\"Nb3Sn\"\n");
        var output = cli.PathOf("out/verdicts.csv");
        var (code, _, error) = cli.Run("screen", "--in", input, "--out", output);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("line 3, column \"formula\": unknown element \"Xx\" at column 3", error);
        var rows = ReadCsv(output);
        Assert.Equal(["line", "formula", "status", "passed"], rows[0][..4]);
        // NaCl: Na +1, Cl −1. MgB2: every SMACT-2014 state of Mg and B is positive. Nb3Sn: all metals.
        Assert.Equal(["2", "NaCl", "ok", "true"], rows[1][..4]);
        Assert.Equal(["3", "BaXx2", "error"], rows[2][..3]);
        Assert.Contains("unknown element", rows[2][^1]);
        Assert.Equal(["4", "MgB2", "ok", "false"], rows[3][..4]);
        Assert.Equal("NotChargeNeutral", rows[3][^1]);
        Assert.Equal("AllMetals", rows[4][7]);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(output)!, "*.tmp"));
    }

    [Fact]
    public void Options_select_table_element_limit_and_hydride_mode()
    {
        var input = cli.File("in.csv", "name,f\na,Mg3B2\nb,LaH10\n");
        var output = cli.PathOf("v.csv");
        // pymatgen ICSD: Mg +2, B −3: 6 − 6 = 0.
        Assert.Equal(ExitCodes.Ok, cli.Run("screen", "--in", input, "--formula-column", "f", "--ox-states", "icsd", "--out", output).ExitCode);
        Assert.Equal("true", ReadCsv(output)[1][3]);
        Assert.Equal(ExitCodes.Ok, cli.Run("screen", "--in", input, "--formula-column", "f", "--max-elements", "1", "--out", output).ExitCode);
        Assert.Equal("TooManyElements", ReadCsv(output)[1][^1]);
        // Hydride: LaH10 passes (La +2, six H⁻, four H⁺); Mg3B2 has no H, and Mg, B states are all positive.
        Assert.Equal(ExitCodes.Ok, cli.Run("screen", "--in", input, "--formula-column", "f", "--hydride", "--out", output).ExitCode);
        var rows = ReadCsv(output);
        Assert.Equal("false", rows[1][3]);
        Assert.Equal("HydrogenFraction(H); NotChargeNeutral", rows[1][^1]);
        Assert.Equal("true", rows[2][3]);
        // LaH10 has 11 atoms: with --max-atoms 10 it fails the atom cap.
        Assert.Equal(ExitCodes.Ok, cli.Run("screen", "--in", input, "--formula-column", "f", "--hydride", "--max-atoms", "10", "--out", output).ExitCode);
        Assert.Equal("TooManyAtoms; NotChargeNeutral", ReadCsv(output)[2][^1]);
        Assert.Equal(ExitCodes.BadInput, cli.Run("screen", "--in", input, "--formula-column", "f", "--max-atoms", "10", "--out", output).ExitCode);
    }

    [Theory]
    [InlineData("", "file is empty")]
    [InlineData("id,name\n1,NaCl\n", "no column \"formula\" (columns: \"id\", \"name\")")]
    [InlineData("formula\n\"NaCl\n", "line 2, column 1: quoted field is never closed")]
    public void Bad_files_give_clear_messages_and_no_output(string content, string message)
    {
        var output = cli.PathOf("v.csv");
        var (code, _, error) = cli.Run("screen", "--in", cli.File("in.csv", content), "--out", output);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, error);
        Assert.DoesNotContain("   at ", error);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFiles(cli.Folder, "*.tmp"));
    }

    [Fact]
    public void Non_utf8_bytes_are_reported_by_offset()
    {
        // "formula\n" is 8 bytes, "Na" 2 more: the 0xFF byte sits at offset 10.
        var input = cli.File("in.csv", [.. "formula\nNa"u8, 0xFF, .. "Cl\n"u8]);
        var (code, _, error) = cli.Run("screen", "--in", input, "--out", cli.PathOf("v.csv"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("not UTF-8: invalid byte 0xFF at byte offset 10", error);
    }

    [Fact]
    public void Missing_input_file_and_bad_option_values()
    {
        Assert.Equal(ExitCodes.BadInput, cli.Run("screen", "--in", cli.PathOf("none.csv"), "--out", cli.PathOf("v.csv")).ExitCode);
        var input = cli.File("in.csv", "formula\nNaCl\n");
        // a value that is not one of the choices is bad input (2); a missing option is usage (1)
        Assert.Equal(ExitCodes.BadInput, cli.Run("screen", "--in", input, "--out", cli.PathOf("v.csv"), "--ox-states", "wiki").ExitCode);
        Assert.Equal(ExitCodes.Usage, cli.Run("screen", "--in", input).ExitCode);
        var (code, _, error) = cli.Run("screen", "--in", input, "--out", cli.PathOf("v.csv"), "--max-elements", "0");
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--max-elements", error);
    }
}
