using Kiago.Cli;
using Kiago.Cli.Design;
using Kiago.Cli.IO;

namespace Kiago.Tests.Cli.Runs;

/// <summary>
/// The experiment's tables.md is rendered from the parts on disk, so reading rows and summaries back must lose
/// nothing the tables could use: written → read → written again gives the same bytes, every column included
/// (a column added to <see cref="DesignTables"/> but not to <see cref="DesignTableReader"/> fails here).
/// </summary>
public sealed class DesignTableReaderTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public void Candidates_and_summaries_round_trip_byte_for_byte()
    {
        string dir = cli.PathOf("run");
        var (code, _, err) = cli.Run("optimise", "--base", "YBa2Cu3O7", "--base", "MgB2", "--candidates", "6", "--steps", "4",
            "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet", "--out", dir);
        Assert.True(code == ExitCodes.Ok, err);
        var text = File.ReadAllText(Path.Combine(dir, "candidates.csv"), CsvWriter.Utf8);
        string rows = text[(text.IndexOf('\n') + 1)..];
        var parsed = DesignTableReader.Candidates(rows, "candidates.csv");
        Assert.Equal(12, parsed.Count);
        Assert.Contains(parsed, r => r.Novelty.NearestFormula.Length > 0); // the novelty columns are read, not defaulted
        Assert.Equal(rows, DesignTables.CandidateLines(parsed));

        foreach (var part in Directory.GetFiles(Path.Combine(dir, ".parts"), "*.summary.json"))
        {
            string json = File.ReadAllText(part, CsvWriter.Utf8);
            Assert.Equal(json, DesignTables.SummaryJson(DesignTableReader.Summary(json)));
        }
    }
}
