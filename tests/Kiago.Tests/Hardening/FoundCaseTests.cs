using Kiago.Cli;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Hardening;

/// <summary>
/// The cases issue 15 found, one test each, through the CLI as a user meets them: every failure caused by input is
/// exit 2 with one line naming what and where, usage is exit 1, and nothing is silently wrong.
/// </summary>
public sealed class FoundCaseTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static readonly string[] Tiny = ["--candidates", "4", "--steps", "4", "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet"];

    void AssertBadInput((int ExitCode, string Out, string Err) result, string expected)
    {
        Assert.True(result.ExitCode == ExitCodes.BadInput, $"exit {result.ExitCode}: {result.Err}");
        Assert.Contains(expected, result.Err);
        Assert.DoesNotContain("internal error", result.Err);
        Assert.DoesNotContain("   at ", result.Err); // no stack trace
    }

    [Fact]
    public void Deeply_nested_formulas_parse_without_recursion()
    {
        string deep = new string('(', 20_000) + "Fe" + new string(')', 20_000);
        var (code, output, err) = cli.Run("parse", deep);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains(",Fe1,", output);
        AssertBadInput(cli.Run("parse", new string('(', 100_000)), "never closed");
    }

    [Theory]
    [InlineData("(Fe1e308)10", "not finite")]
    [InlineData("Fe1e308O1e308", "not finite")]
    [InlineData("Fe1e308Fe1e308", "not finite")]
    public void Amounts_that_overflow_are_bad_input(string formula, string message)
    {
        AssertBadInput(cli.Run("parse", formula), message);
        AssertBadInput(cli.Run("parse", formula, "--json"), message);
        var ef = TestModels.Write(cli.PathOf("ef.kgw"), ModelKind.ElemNet);
        AssertBadInput(cli.Run("predict", formula, "--no-tc", "--ef-model", ef, "--device", "cpu"), message);
    }

    [Fact]
    public void An_out_that_is_a_file_or_cannot_be_written_is_bad_input()
    {
        string file = cli.File("taken.txt", "x");
        AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--out", file, .. Tiny]), "is a file");
        AssertBadInput(cli.Run("baseline", "ces", "--base", "MgB2", "--samples", "4", "--out", file, "--device", "cpu"), "is a file");
        AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--out", "/proc/kiago-hardening-test", .. Tiny]), "/proc/kiago-hardening-test");
        var ef = TestModels.Write(cli.PathOf("ef.kgw"), ModelKind.ElemNet);
        AssertBadInput(cli.Run("predict", "MgB2", "--no-tc", "--ef-model", ef, "--device", "cpu", "--out", cli.Folder), "is a folder");
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void A_model_card_with_an_all_zero_frequency_table_is_bad_input()
    {
        var tc = TestModels.WriteWithZeroFrequencies(cli.PathOf("tc.kgw"), ModelKind.TcResNet);
        AssertBadInput(cli.Run("optimise", "--base", "MgB2", "--out", cli.PathOf("run"), "--candidates", "4", "--steps", "4",
            "--tc-model", tc, "--ef-model", "random", "--device", "cpu", "--quiet"), "element_frequencies");
    }

    [Fact]
    public void Max_elements_1_is_refused_not_ignored()
    {
        AssertBadInput(cli.Run(["optimise", "--base", "YBa2Cu3O7", "--max-elements", "1", "--out", cli.PathOf("run"), .. Tiny]), "--max-elements");
        Assert.False(File.Exists(cli.PathOf("run/candidates.csv")));
    }

    [Fact]
    public void Predict_and_hull_refuse_a_model_of_the_wrong_quantity()
    {
        var tc = TestModels.Write(cli.PathOf("tc.kgw"), ModelKind.TcResNet);
        var ef = TestModels.Write(cli.PathOf("ef.kgw"), ModelKind.ElemNet);
        AssertBadInput(cli.Run("predict", "MgB2", "--tc-model", ef, "--ef-model", ef, "--device", "cpu"), "predicts ef in eV/atom, but --tc-model needs a model of tc in K");
        AssertBadInput(cli.Run("predict", "MgB2", "--tc-model", tc, "--ef-model", tc, "--device", "cpu"), "--ef-model needs a model of ef in eV/atom");
        var reference = cli.File("ref.csv", "formula\nMgB2\nMg\nB\n");
        AssertBadInput(cli.Run("hull", "MgB2", "--reference", reference, "--ef-model", tc, "--device", "cpu"), "needs a model of ef in eV/atom");
    }

    [Fact]
    public void Checksum_valid_weights_with_a_NaN_are_refused_at_load()
    {
        var ef = TestModels.WriteWithNaNWeight(cli.PathOf("nan.kgw"), ModelKind.ElemNet);
        AssertBadInput(cli.Run("predict", "MgB2", "--no-tc", "--ef-model", ef, "--device", "cpu"), "non-finite");
        AssertBadInput(cli.Run("inspect", ef), "non-finite");
    }

    [Fact]
    public void Input_elements_that_disagree_with_the_model_input_are_refused()
    {
        var model = TestModels.Model(ModelKind.ElemNet);
        var ef = TestModels.Write(cli.PathOf("short.kgw"), model with { InputElements = [.. model.InputElements.Take(80)] });
        AssertBadInput(cli.Run("predict", "MgB2", "--no-tc", "--ef-model", ef, "--device", "cpu"), "input_elements");
    }

    [Fact]
    public void A_negative_alpha_gets_a_note()
    {
        var (code, _, err) = cli.Run(["optimise", "--base", "MgB2", "--alpha", "-1", "--out", cli.PathOf("run"), .. Tiny]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("rewards a high", err);
    }

    [Fact]
    public void A_base_with_elements_the_Ef_model_cannot_see_gets_a_warning()
    {
        var (code, _, err) = cli.Run(["optimise", "--base", "PoO2", "--base", "AmN", "--out", cli.PathOf("run"), .. Tiny]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("base PoO2: the Ef model (elemnet) cannot see Po", err);
        Assert.Contains("base AmN: the Ef model (elemnet) cannot see Am", err);
    }

    [Fact]
    public void A_header_only_csv_is_bad_input_in_every_command()
    {
        var empty = cli.File("empty.csv", "formula\n");
        AssertBadInput(cli.Run("screen", "--in", empty, "--out", cli.PathOf("v.csv")), "no rows below the header");
        var ef = TestModels.Write(cli.PathOf("ef.kgw"), ModelKind.ElemNet);
        AssertBadInput(cli.Run("predict", "--in", empty, "--no-tc", "--ef-model", ef, "--device", "cpu"), "no rows below the header");
        AssertBadInput(cli.Run(["optimise", "--bases", empty, "--out", cli.PathOf("run"), .. Tiny]), "no rows below the header");
    }

    [Fact]
    public void Every_screened_row_gives_one_output_row_a_quoted_empty_field_included()
    {
        // a one-column CSV: the row `""` is a row with an empty formula, unlike a blank line (skipped)
        var input = cli.File("in.csv", "formula\nNaCl\n\"\"\n\nKCl\n");
        var (code, _, err) = cli.Run("screen", "--in", input, "--out", cli.PathOf("v.csv"));
        Assert.Equal(ExitCodes.BadInput, code); // one row has no formula
        var lines = File.ReadAllLines(cli.PathOf("v.csv"));
        Assert.Equal(1 + 3, lines.Length);
        Assert.StartsWith("3,", lines[2]);
        Assert.Contains("empty formula", lines[2]);
        Assert.StartsWith("5,KCl,ok", lines[3]);
        Assert.Contains("line 3", err);
    }

    [Fact]
    public void Baseline_ces_reads_the_same_csv_base_list_as_optimise()
    {
        var bases = cli.File("bases.csv", "formula\nMgB2\nLaFeAsO\n");
        var (code, _, err) = cli.Run("baseline", "ces", "--bases", bases, "--samples", "4", "--out", cli.PathOf("ces"), "--device", "cpu");
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Equal(1 + 2 * 4, File.ReadAllLines(cli.PathOf("ces/candidates.csv")).Length);
    }

    [Fact]
    public void Report_refuses_a_folder_that_is_not_a_run()
    {
        string folder = Directory.CreateDirectory(cli.PathOf("not-a-run")).FullName;
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        AssertBadInput(cli.Run("report", folder), "not a run folder");
        Assert.False(File.Exists(Path.Combine(folder, "report.md")));
    }

    [Fact]
    public void Convert_never_overwrites_its_input()
    {
        string onnx = cli.PathOf("model.onnx");
        File.Copy(Path.Combine(NetsFixtures.Folder, "tiny_mlp_op13.onnx"), onnx);
        var before = File.ReadAllBytes(onnx);
        AssertBadInput(cli.Run("convert", onnx, "-o", onnx), "is the input file");
        AssertBadInput(cli.Run("convert", onnx, "-o", Path.Combine(cli.Folder, ".", "model.onnx")), "is the input file");
        Assert.Equal(before, File.ReadAllBytes(onnx));
    }

    [Fact]
    public void Two_runs_into_one_out_cannot_both_compute()
    {
        string dir = Directory.CreateDirectory(cli.PathOf("run")).FullName;
        // what a running kiago holds: an exclusive advisory lock on DIR/.kiago.lock
        using (var held = new FileStream(Path.Combine(dir, ".kiago.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            held.Write("PID 1 on host elsewhere\n"u8);
            held.Flush();
            AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--out", dir, .. Tiny]), "another kiago run is writing there");
            Assert.False(File.Exists(Path.Combine(dir, "candidates.csv")));
        }
        // released (as the kernel does when the holder dies, even by SIGKILL): the folder is usable
        var (code, _, err) = cli.Run(["optimise", "--base", "MgB2", "--out", dir, .. Tiny]);
        Assert.True(code == ExitCodes.Ok, err);
    }

    [Fact]
    public void The_manifest_names_the_process_and_host_so_a_dead_run_can_be_told()
    {
        string dir = cli.PathOf("run");
        Assert.Equal(ExitCodes.Ok, cli.Run(["optimise", "--base", "MgB2", "--out", dir, .. Tiny]).ExitCode);
        string manifest = Path.Combine(dir, "manifest.json");
        var text = File.ReadAllText(manifest);
        Assert.Contains($"\"pid\": {Environment.ProcessId}", text);
        Assert.Contains($"\"host\": \"{Environment.MachineName}\"", text);
        // a run killed while running: its manifest says running; a later run without --resume says it is dead
        File.WriteAllText(manifest, text.Replace("\"state\": \"complete\"", "\"state\": \"running\""));
        AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--out", dir, .. Tiny]), "stopped without finishing");
    }

    [Fact]
    public void The_same_base_twice_is_refused()
    {
        AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--base", "MgB2", "--out", cli.PathOf("run"), .. Tiny]), "repeats base 1");
        AssertBadInput(cli.Run(["optimise", "--base", "MgB2", "--base", "Mg2B4", "--out", cli.PathOf("run"), .. Tiny]), "repeats base 1");
    }

    [Fact]
    public void A_truncated_finished_part_is_recomputed_on_resume_never_reused()
    {
        string full = cli.PathOf("full"), cut = cli.PathOf("cut");
        string[] run = ["optimise", "--base", "MgB2", "--base", "LaFeAsO", .. Tiny];
        Assert.Equal(ExitCodes.Ok, cli.Run([.. run, "--out", full]).ExitCode);
        Assert.Equal(ExitCodes.Ok, cli.Run([.. run, "--out", cut]).ExitCode);
        string part = Path.Combine(cut, ".parts", "base-0000.candidates.csv");
        var bytes = File.ReadAllBytes(part);
        File.WriteAllBytes(part, bytes[..(bytes.Length / 2)]);
        var (code, _, err) = cli.Run([.. run, "--out", cut, "--resume"]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("base-0000.candidates.csv", err); // the bad part is named
        foreach (var table in new[] { "candidates.csv", "summary.csv", "summary.json", "traces.csv" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(full, table)), File.ReadAllBytes(Path.Combine(cut, table)));
    }

    [Theory]
    [InlineData(ExitCodes.BadInput, "screen", "--in", "{in}", "--out", "{out}", "--ox-states", "bogus")]
    [InlineData(ExitCodes.BadInput, "optimise", "--base", "MgB2", "--out", "{out}", "--mode", "bogus")]
    [InlineData(ExitCodes.BadInput, "optimise", "--base", "MgB2", "--out", "{out}", "--candidates", "abc")]
    [InlineData(ExitCodes.BadInput, "predict", "MgB2", "--threads", "0")]
    [InlineData(ExitCodes.BadInput, "predict", "MgB2", "--device", "tpu")]
    [InlineData(ExitCodes.Usage, "predict")]
    [InlineData(ExitCodes.Usage, "optimise", "--bogus-option")]
    [InlineData(ExitCodes.Usage, "screen", "--in")]
    public void Exit_codes_are_the_same_for_the_same_kind_of_mistake(int expected, params string[] args)
    {
        var input = cli.File("in.csv", "formula\nNaCl\n");
        var (code, _, err) = cli.Run([.. args.Select(a => a.Replace("{in}", input).Replace("{out}", cli.PathOf("o")))]);
        Assert.True(code == expected, $"exit {code}, expected {expected}: {err}");
        Assert.DoesNotContain("internal error", err);
    }

    [SkippableFact]
    public void Check_device_without_a_GPU_is_bad_input_like_every_other_command()
    {
        using (var cuda = Kiago.Kernels.Ilgpu.IlgpuBackend.TryCreateCuda(out _))
            Skip.If(cuda is not null, "a CUDA device is present: the no-GPU path cannot be reached on this machine");
        AssertBadInput(cli.Run("check-device", "--device", "cuda"), "no CUDA device");
        AssertBadInput(cli.Run("optimise", "--base", "MgB2", "--out", cli.PathOf("o"), "--device", "cuda"), "no CUDA device");
    }
}
