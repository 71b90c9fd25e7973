using BenchmarkDotNet.Running;
using Kiago.Bench.Engine;

namespace Kiago.Bench;

/// <summary>
/// BenchmarkDotNet entry point (<c>dotnet run -c Release --project bench/Kiago.Bench -- --filter "*Gemm*"</c>; see docs/BENCHMARKS.md).
/// Verbs: <c>cuda-check</c> runs the CUDA parity check (no .NET SDK needed: see tools/gpu-check.sh);
/// <c>nets-parity</c> prints the ResNet18/ElemNet parity table (docs/MODELS.md) from training/exports.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == CudaCheck.Verb) return CudaCheck.Run(args[1..]);
        if (args is ["nets-parity", ..]) return NetsParity.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
