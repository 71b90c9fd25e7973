using BenchmarkDotNet.Running;

namespace Kiago.Bench;

/// <summary>
/// BenchmarkDotNet entry point (<c>dotnet run -c Release --project bench/Kiago.Bench -- --filter "*Gemm*"</c>; see docs/BENCHMARKS.md).
/// Verbs: <c>nets-parity</c> prints the ResNet18/ElemNet parity table (docs/MODELS.md) from training/exports;
/// <c>uncertainty-step</c> times the whole optimiser step with and without σ (docs/BENCHMARKS.md, "Uncertainty");
/// <c>token-model</c> times the BYO token transformer (docs/BENCHMARKS.md, "Token transformer").
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["nets-parity", ..]) return NetsParity.Run(args[1..]);
        if (args is ["uncertainty-step", ..]) return UncertaintyStep.Run(args[1..]);
        if (args is ["superdiff-step", ..]) return SuperDiffStep.Run(args[1..]);
        if (args is ["token-model", ..]) return TokenModelStep.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
