using BenchmarkDotNet.Running;
using Kiago.Bench.Engine;

namespace Kiago.Bench;

/// <summary>
/// BenchmarkDotNet entry point (<c>dotnet run -c Release --project bench/Kiago.Bench -- --filter "*Gemm*"</c>; see docs/BENCHMARKS.md).
/// The verb <c>cuda-check</c> runs the CUDA parity check instead (no .NET SDK needed: see tools/gpu-check.sh).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == CudaCheck.Verb) return CudaCheck.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
