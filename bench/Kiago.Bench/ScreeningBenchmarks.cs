using BenchmarkDotNet.Attributes;
using Kiago.Chemistry;
using Kiago.Chemistry.Screening;

namespace Kiago.Bench;

/// <summary>KIAGO screening throughput on all SuperCon formulas (shared/data/supercon.csv, 16,511 rows).</summary>
[MemoryDiagnoser]
public class ScreeningBenchmarks
{
    string[] formulas = [];
    Composition[] compositions = [];

    [GlobalSetup]
    public void Setup()
    {
        formulas = [.. File.ReadLines(BenchData.SharedPath("data", "supercon.csv")).Skip(1).Select(line => line[..line.IndexOf(',')])];
        compositions = [.. formulas.Select(Composition.Parse)];
    }

    [Benchmark(Description = "parse 16,511 formulas")]
    public int Parse() => formulas.Sum(f => Composition.Parse(f).Count);

    [Benchmark(Description = "screen 16,511, one thread")]
    public int ScreenSequential() => Screener.ScreenMany(compositions, maxDegreeOfParallelism: 1).Count(v => v.Passed);

    [Benchmark(Description = "screen 16,511, all cores")]
    public int ScreenParallel() => Screener.ScreenMany(compositions).Count(v => v.Passed);

    [Benchmark(Description = "hydride-screen 16,511, all cores")]
    public int ScreenHydrideParallel() => Screener.ScreenHydrideMany(compositions).Count(v => v.Passed);
}
