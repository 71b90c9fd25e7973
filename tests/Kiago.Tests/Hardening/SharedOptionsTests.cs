using System.CommandLine;
using System.Diagnostics;
using Kiago.Cli;
using Kiago.Tests.Cli;

namespace Kiago.Tests.Hardening;

/// <summary>
/// --device and --threads are one definition shared by every compute command (issue 14 item 4): present, same
/// default (auto; the CPUs the process may use), and --threads changes speed, never results.
/// </summary>
public sealed class SharedOptionsTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static readonly string[] ComputeCommands =
        ["predict", "optimise", "substitute", "hydride", "experiment", "hull", "evaluate-model", "bench", "check-device", "calibrate"];

    static Command Find(string path)
    {
        Command command = KiagoRoot.Create();
        foreach (var name in path.Split(' ')) command = command.Subcommands.Single(c => c.Name == name);
        return command;
    }

    [Fact]
    public void Every_compute_command_has_device_auto_and_threads()
    {
        foreach (var name in ComputeCommands.Append("baseline ces"))
        {
            var command = Find(name);
            var device = command.Options.SingleOrDefault(o => o.Name == "--device");
            Assert.True(device is Option<string>, $"{name}: no --device");
            var parse = command.Parse([]);
            Assert.Equal("auto", parse.GetValue((Option<string>)device!));
            Assert.True(command.Options.Any(o => o.Name == "--threads"), $"{name}: no --threads");
        }
        Assert.Contains(Find("screen").Options, o => o.Name == "--threads"); // CPU only: no --device
    }

    [Fact]
    public void Threads_change_nothing_in_the_results()
    {
        string[] run = ["optimise", "--base", "YBa2Cu3O7", "--base", "MgB2", "--candidates", "64", "--steps", "6",
            "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet"];
        Assert.Equal(ExitCodes.Ok, cli.Run([.. run, "--threads", "1", "--out", cli.PathOf("one")]).ExitCode);
        Assert.Equal(ExitCodes.Ok, cli.Run([.. run, "--threads", "3", "--out", cli.PathOf("three")]).ExitCode);
        foreach (var table in new[] { "candidates.csv", "summary.csv", "traces.csv" })
            Assert.Equal(File.ReadAllBytes(cli.PathOf($"one/{table}")), File.ReadAllBytes(cli.PathOf($"three/{table}")));
        Assert.Contains("1 thread\"", File.ReadAllText(cli.PathOf("one/manifest.json")));
        Assert.Contains("3 threads\"", File.ReadAllText(cli.PathOf("three/manifest.json")));
    }

    /// <summary>The default is the CPUs the process may use: an affinity mask (taskset, Slurm binding) or DOTNET_PROCESSOR_COUNT.</summary>
    [Fact]
    public void The_default_thread_count_respects_the_affinity_mask()
    {
        string[] run = ["optimise", "--base", "MgB2", "--candidates", "4", "--steps", "2", "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet"];
        string kiago = Path.Combine(AppContext.BaseDirectory, "kiago.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

        var viaEnv = Start(dotnet, [kiago, .. run, "--out", cli.PathOf("env")]);
        viaEnv.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        Wait(viaEnv);
        Assert.Contains(", 1 thread\"", File.ReadAllText(cli.PathOf("env/manifest.json")));

        if (File.Exists("/usr/bin/taskset") && Environment.ProcessorCount > 1)
        {
            Wait(Start("/usr/bin/taskset", ["-c", "0", dotnet, kiago, .. run, "--out", cli.PathOf("taskset")]));
            Assert.Contains(", 1 thread\"", File.ReadAllText(cli.PathOf("taskset/manifest.json")));
        }
    }

    static ProcessStartInfo Start(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment.Remove("DOTNET_PROCESSOR_COUNT");
        return info;
    }

    static void Wait(ProcessStartInfo info)
    {
        using var p = Process.Start(info)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{info.FileName} {string.Join(' ', info.ArgumentList)}: exit {p.ExitCode}: {err.Result}");
    }
}
