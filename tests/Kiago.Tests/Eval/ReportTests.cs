using System.Globalization;
using System.Text;
using Kiago.Cli;
using Kiago.Cli.Report;

namespace Kiago.Tests.Eval;

public sealed class ReportTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("kiago-report-").FullName;

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("KIAGO_KEEP_REPORT") is { Length: > 0 } keep) CopyTree(dir, keep);
        Directory.Delete(dir, recursive: true);
    }

    static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
    }

    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    void WriteCandidates(bool anyPass = true)
    {
        var sb = new StringBuilder("base_index,base,rank,formula,tc_rounded,ef_rounded,unique,valid,neutral,electronegativity,ef_negative,all_pass,reasons\n");
        var formulas = new[] { "Ba2Cu3O7Y1", "La1Fe1As1O1", "Sr2Cu1O3", "Mg1B2", "Nb3Sn1", "Ca1Cu2O3", "Hg1Ba2Cu1O4", "Fe1Se1" };
        for (int i = 0; i < 40; i++)
        {
            bool pass = anyPass && i % 3 == 0;
            double tc = 10 + 2.5 * i, ef = -1.5 + 0.05 * i;
            string tcText = (i == 39 ? 500.0 : tc).ToString(CultureInfo.InvariantCulture); // the top one fails a check
            sb.Append($"0,LaFeAsO,{i},{formulas[i % formulas.Length]}{i + 1},{tcText},{ef.ToString(CultureInfo.InvariantCulture)},");
            sb.Append($"{(i % 10 != 7 ? "true" : "false")},true,{(pass || i % 3 == 1 ? "true" : "false")},true,{(ef < 0 ? "true" : "false")},");
            sb.Append($"{(pass && i != 39 ? "true" : "false")},{(pass ? "" : "not charge-neutral")}\n");
        }
        // The best passing row: i = 36 (i % 3 == 0, i % 10 != 7), Tc = 100 K.
        File.WriteAllText(Path.Combine(dir, "candidates.csv"), sb.ToString());
    }

    void WriteSummaryAndTraces()
    {
        File.WriteAllText(Path.Combine(dir, "summary.csv"),
            "base_index,base,base_tc,unique_rate,valid_rate,neutral_rate_in_valid,electronegativity_rate_in_valid,ef_negative_rate,all_pass_rate,delta_tc_top10,delta_tc_top30,delta_tc_top50\n" +
            "0,LaFeAsO,13.4,0.9,1,0.6,0.6,0.75,0.3,70.1,55.2,NaN\n");
        var sb = new StringBuilder("base_index,step,stage,best_tc,mean_tc\n");
        for (int s = 0; s < 100; s += 10) sb.Append($"0,{s},{(s < 50 ? 1 : 2)},{20 + s},{5 + s / 2}\n");
        File.WriteAllText(Path.Combine(dir, "traces.csv"), sb.ToString());
    }

    [Fact]
    public void Full_run_directory_renders_markdown_and_three_pngs()
    {
        WriteCandidates();
        WriteSummaryAndTraces();
        var files = ReportWriter.Write(dir);
        Assert.Empty(files.Notes);
        Assert.Equal(3, files.Figures.Count);
        foreach (var png in files.Figures)
        {
            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 5_000, $"{png}: {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes[..8]);
        }
        var md = File.ReadAllText(files.Markdown);
        // Top passing candidate is row 36 (Tc 100 K); the 500 K row fails a screen and must not be first.
        var firstRow = md.Split('\n').First(l => l.StartsWith("| 1 |"));
        Assert.Contains("Nb3Sn137", firstRow);
        Assert.Contains("100.00", firstRow);
        Assert.Contains("86.60", firstRow); // ΔTc against the summary's base Tc 13.4 K
        Assert.Contains("![", md);
        Assert.Contains("tc_per_step.png", md);
        Assert.Contains("| LaFeAsO | 13.40 |", md);
        Assert.DoesNotContain(Directory.GetFiles(dir), f => f.EndsWith(".tmp"));
    }

    [Fact]
    public void Missing_optional_files_are_noted_not_fatal()
    {
        WriteCandidates(anyPass: false);
        var files = ReportWriter.Write(dir);
        Assert.Contains(files.Notes, n => n.StartsWith("summary.csv not found"));
        Assert.Contains(files.Notes, n => n.StartsWith("traces.csv not found") && n.Contains("Tc-per-step"));
        Assert.Equal(["element_frequency.png", "tc_vs_ef.png"], files.Figures.Select(Path.GetFileName).Order());
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("No candidate passes every screen", md);
        Assert.Contains("traces.csv not found", md);
    }

    [Fact]
    public void A_folder_that_is_not_a_run_is_refused_and_nothing_is_written_there()
    {
        var e = Assert.Throws<UserInputException>(() => ReportWriter.Write(dir));
        Assert.Contains("not a run folder", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public void A_partial_run_still_gives_a_report_that_says_what_is_missing()
    {
        File.WriteAllText(Path.Combine(dir, "traces.csv"), "base_index,step,stage,best_tc,mean_tc\n");
        var files = ReportWriter.Write(dir);
        Assert.Empty(files.Figures);
        Assert.Contains("candidates.csv not found", File.ReadAllText(files.Markdown));
    }

    [Fact]
    public void Bad_cells_and_missing_directories_are_user_errors()
    {
        File.WriteAllText(Path.Combine(dir, "candidates.csv"), "formula,tc_rounded,ef_rounded,all_pass\nFe1,12,-1,true\nFe2,abc,-1,true\n");
        var e = Assert.Throws<UserInputException>(() => ReportWriter.Write(dir));
        Assert.Contains("line 3, column \"tc_rounded\": \"abc\" is not a number", e.Message);
        Assert.Throws<UserInputException>(() => ReportWriter.Write(Path.Combine(dir, "nope")));
    }

    [Fact]
    public void Novelty_and_sigma_columns_feed_the_top_table_the_sigma_plot_and_the_novel_count()
    {
        var sb = new StringBuilder("base_index,base,rank,formula,formula_atoms,tc_rounded,ef_rounded,unique,valid,neutral,electronegativity,ef_negative,all_pass,known,nearest_known,nearest_known_distance,nearest_known_tc,tc_sigma_K,reasons\n");
        for (int i = 0; i < 12; i++)
        {
            bool known = i % 4 == 0;
            sb.Append($"0,YBa2Cu3O7,{i + 1},Cu{i + 1}O{i + 2},{2 * i + 3},{100 - i},{-1 - 0.1 * i},true,true,true,true,true,true,{(known ? "true" : "false")},");
            sb.Append($"Y1Ba2Cu3O7,{(known ? 0 : 0.25).ToString(CultureInfo.InvariantCulture)},92,{(3 + i).ToString(CultureInfo.InvariantCulture)},\n");
        }
        File.WriteAllText(Path.Combine(dir, "candidates.csv"), sb.ToString());
        File.WriteAllText(Path.Combine(dir, "summary.csv"),
            "base_index,base,base_tc,base_ef,unique_rate,valid_rate,neutral_rate_in_valid,electronegativity_rate_in_valid,ef_negative_rate,all_pass_rate,delta_tc_top10,delta_tc_top30,delta_tc_top50,novel_all_pass\n" +
            "0,YBa2Cu3O7,87,-1.8,1,1,1,1,1,1,1,1,1,9\n");
        var files = ReportWriter.Write(dir);
        Assert.Contains(files.Figures, f => f.EndsWith("tc_vs_sigma.png"));
        var md = File.ReadAllText(files.Markdown);
        Assert.Contains("12 pass every screen (9 novel", md);
        var rows = md.Split('\n').Where(l => l.StartsWith("| ") && char.IsDigit(l[2])).ToList();
        Assert.Equal(12, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            // every row names its atoms, σ, novelty and nearest known compound
            Assert.Contains($"| Cu{i + 1}O{i + 2} | {2 * i + 3} | {100 - i:F2} | {3 + i:F2} |", rows[i]);
            Assert.Contains(i % 4 == 0 ? "| known | Y1Ba2Cu3O7 (0.000) |" : "| novel | Y1Ba2Cu3O7 (0.250) |", rows[i]);
        }
        Assert.Contains("| 9 |", md.Split('\n').First(l => l.StartsWith("| YBa2Cu3O7 |")));
    }
}
