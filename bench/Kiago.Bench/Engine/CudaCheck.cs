using System.Diagnostics;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Bench.Engine;

/// <summary>
/// <c>Kiago.Bench cuda-check [--resnet]</c>: every op on the CUDA backend vs the ILGPU CPU accelerator
/// (<see cref="BackendParity"/>), one line per comparison. Exit 0 all pass, 1 a mismatch, 3 no CUDA device.
/// Runs with the .NET runtime alone, for GPU machines without the SDK (xunit needs <c>dotnet test</c>).
/// </summary>
static class CudaCheck
{
    public const string Verb = "cuda-check";

    public static int Run(string[] args)
    {
        using var cuda = IlgpuBackend.TryCreateCuda(out var reason);
        if (cuda is null)
        {
            Console.Error.WriteLine($"cuda-check: no CUDA device: {reason}");
            return 3;
        }
        Console.WriteLine($"device: {cuda.DeviceName}");
        using var cpu = IlgpuBackend.CreateCpu();
        int failed = 0;
        foreach (var size in args.Contains("--resnet") ? [ParitySize.Small, ParitySize.ResNet] : new[] { ParitySize.Small })
        {
            var clock = Stopwatch.StartNew();
            var results = BackendParity.Run(cpu, cuda, size);
            foreach (var r in results) Console.WriteLine($"[{size}] {r}");
            failed += results.Count(r => !r.Passed);
            Console.WriteLine($"[{size}] {results.Count - results.Count(r => !r.Passed)}/{results.Count} passed in {clock.Elapsed.TotalSeconds:F1} s");
        }
        Console.WriteLine(failed == 0 ? "cuda-check: PASS" : $"cuda-check: FAIL ({failed} mismatches)");
        return failed == 0 ? 0 : 1;
    }
}
