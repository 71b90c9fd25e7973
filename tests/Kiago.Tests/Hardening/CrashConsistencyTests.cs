using System.Diagnostics;
using Kiago.Cli;
using Kiago.Cli.IO;
using Kiago.Tests.Cli;

namespace Kiago.Tests.Hardening;

/// <summary>
/// Crash consistency of a multi-base optimise run (issue 15): the real `kiago` process is killed with SIGKILL at
/// seeded random moments (20 kills), some finished parts are truncated or corrupted between kills, and every restart
/// is `--resume`. The final resume must give tables byte-identical to an uninterrupted run, or refuse naming the bad
/// part — never a short or malformed table. Sized for CI on 2 cores: 4 bases × 4 candidates × 4 steps with the
/// untrained models, one thread. KIAGO_CRASH_KILLS=N runs a longer chain (docs/EXIT-CODES.md, before releases).
/// </summary>
public sealed class CrashConsistencyTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    static readonly string[] Run =
    [
        "optimise", "--base", "MgB2", "--base", "LaFeAsO", "--base", "YBa2Cu3O7", "--base", "Nb3Sn",
        "--candidates", "4", "--steps", "4", "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--threads", "1", "--quiet",
    ];

    static readonly string[] Tables = ["candidates.csv", "summary.csv", "summary.json", "traces.csv"];

    [Fact]
    public void Twenty_seeded_kills_then_resume_give_the_uninterrupted_tables()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("KIAGO_CRASH_KILLS"), out int k) && k > 0 ? k : 20;
        const int KillsPerFolder = 5;
        string reference = cli.PathOf("reference");
        var clock = Stopwatch.StartNew();
        var (code, err) = Kiago([.. Run, "--out", reference]);
        Assert.True(code == ExitCodes.Ok, err);
        double fullSeconds = clock.Elapsed.TotalSeconds;

        var rng = new Random(15);
        int landed = 0, corrupted = 0;
        for (int folder = 0; folder * KillsPerFolder < kills; folder++)
        {
            string crashed = cli.PathOf($"crashed-{folder}");
            for (int i = 0; i < KillsPerFolder && folder * KillsPerFolder + i < kills; i++)
            {
                // a moment anywhere from process start-up to the end of an uninterrupted run
                if (KillAfter([.. Run, "--out", crashed, "--resume"], TimeSpan.FromSeconds(rng.NextDouble() * fullSeconds))) landed++;
                AssertTablesWellFormed(crashed);
                if (i == 2 && Corrupt(crashed, rng)) corrupted++;
            }
            (code, err) = Kiago([.. Run, "--out", crashed, "--resume"]);
            if (code == ExitCodes.BadInput)
                Assert.Contains(".parts", err); // a refusal must name the bad part
            else
            {
                Assert.True(code == ExitCodes.Ok, err);
                foreach (var table in Tables)
                    Assert.True(File.ReadAllBytes(Path.Combine(reference, table)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(crashed, table))),
                        $"{crashed}/{table} differs from the uninterrupted run ({landed} kills landed so far, {corrupted} parts corrupted)");
            }
        }
        Assert.True(landed >= kills / 2, $"only {landed} of {kills} kills landed while a run was going");
    }

    /// <summary>Tables present at a kill are complete CSV: header + rows with the header's field count.</summary>
    static void AssertTablesWellFormed(string dir)
    {
        foreach (var table in new[] { "candidates.csv", "summary.csv", "traces.csv" })
        {
            string path = Path.Combine(dir, table);
            if (!File.Exists(path)) continue;
            using var reader = CsvReader.Open(path);
            var header = CsvHeader.Read(reader, path);
            foreach (var record in reader.ReadAll())
                Assert.True(record.Fields.Length == header.Names.Count, $"{path} line {record.Line}: {record.Fields.Length} fields, header {header.Names.Count}");
        }
    }

    /// <summary>Truncates or flips a byte of a random finished part (what a disk or a careless user may do).</summary>
    static bool Corrupt(string dir, Random rng)
    {
        string parts = Path.Combine(dir, ".parts");
        if (!Directory.Exists(parts)) return false;
        var files = Directory.GetFiles(parts, "base-*.*").Where(f => !f.EndsWith(".done.json")).Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) return false;
        string victim = files[rng.Next(files.Length)];
        var bytes = File.ReadAllBytes(victim);
        if (bytes.Length == 0) return false;
        if (rng.Next(2) == 0) File.WriteAllBytes(victim, bytes[..rng.Next(bytes.Length)]);
        else
        {
            bytes[rng.Next(bytes.Length)] ^= 0x20;
            File.WriteAllBytes(victim, bytes);
        }
        return true;
    }

    static ProcessStartInfo Start(string[] args)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "kiago.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    static (int Code, string Err) Kiago(string[] args)
    {
        using var p = Process.Start(Start(args))!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, err.Result);
    }

    /// <summary>Starts kiago and SIGKILLs it after <paramref name="delay"/>; true when it was still running then.</summary>
    static bool KillAfter(string[] args, TimeSpan delay)
    {
        using var p = Process.Start(Start(args))!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (p.WaitForExit(delay))
        {
            Assert.True(p.ExitCode == ExitCodes.Ok, $"exit {p.ExitCode} before the kill: {err.Result}");
            return false;
        }
        p.Kill(); // SIGKILL on Unix: no handler runs, like kill -9
        p.WaitForExit();
        return true;
    }
}
