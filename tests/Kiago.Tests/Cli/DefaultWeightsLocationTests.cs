using System.Diagnostics;

namespace Kiago.Tests.Cli;

/// <summary>
/// The default models are found beside the kiago binary, not in the current directory: the binary started from a
/// folder without weights/ runs optimise and predict on the shipped models, and --tc-model still overrides them.
/// </summary>
public sealed class DefaultWeightsLocationTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    (int Code, string Out, string Err) Kiago(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = cli.Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiago.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Defaults_resolve_beside_the_binary_from_any_directory()
    {
        Assert.False(Directory.Exists(Path.Combine(cli.Folder, "weights")));
        string shipped = Path.Combine(AppContext.BaseDirectory, "weights", "tc-resnet18.kgw");
        Assert.True(File.Exists(shipped), "the build copies weights/ beside kiago.dll");

        var (code, _, err) = Kiago("optimise", "--base", "MgB2", "--candidates", "2", "--steps", "2", "--device", "cpu", "--quiet", "--out", "run");
        Assert.True(code == 0, err);
        var manifest = File.ReadAllText(Path.Combine(cli.Folder, "run", "manifest.json"));
        Assert.Contains($"\"tc-model\": {System.Text.Json.JsonSerializer.Serialize(shipped + " sha256:")}".TrimEnd('"'), manifest);

        (code, var stdout, err) = Kiago("predict", "MgB2");
        Assert.True(code == 0, err);
        Assert.StartsWith("formula,tc_K,", stdout);

        // an explicit path is the user's, relative to the current directory
        (code, _, err) = Kiago("optimise", "--base", "MgB2", "--candidates", "2", "--steps", "2", "--device", "cpu", "--quiet",
            "--tc-model", "weights/tc-resnet18.kgw", "--out", "run2");
        Assert.Equal(2, code);
        Assert.Contains("weights/tc-resnet18.kgw", err);
        (code, _, err) = Kiago("optimise", "--base", "MgB2", "--candidates", "2", "--steps", "2", "--device", "cpu", "--quiet",
            "--tc-model", "random", "--out", "run3");
        Assert.True(code == 0, err);
        Assert.Contains("\"tc-model\": \"random", File.ReadAllText(Path.Combine(cli.Folder, "run3", "manifest.json")));
    }
}
