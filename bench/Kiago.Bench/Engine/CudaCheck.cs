using System.Diagnostics;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Bench.Engine;

/// <summary>
/// <c>Kiago.Bench cuda-check [--resnet]</c>: every op on the CUDA backend vs the SIMD CPU backend and vs ILGPU's CPU
/// accelerator (<see cref="BackendParity"/>), one line per comparison; <c>--resnet</c> adds ResNet18/ElemNet layer
/// shapes (vs SIMD only: the CPU accelerator is too slow there). Exit 0 all pass, 1 a mismatch, 3 no CUDA device.
/// Needs only the .NET runtime, for GPU machines without the SDK (the xunit CUDA tests need <c>dotnet test</c>).
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
        using var simd = new CpuBackend();
        using var ilgpuCpu = IlgpuBackend.CreateCpu();
        int failed = 0;
        failed += Compare("vs ilgpu-cpu, small", ilgpuCpu, cuda, ParitySize.Small);
        failed += Compare("vs simd, small", simd, cuda, ParitySize.Small);
        if (args.Contains("--resnet")) failed += Compare("vs simd, resnet shapes", simd, cuda, ParitySize.ResNet);
        Console.WriteLine(failed == 0 ? "cuda-check: PASS" : $"cuda-check: FAIL ({failed} mismatches)");
        return failed == 0 ? 0 : 1;
    }

    static int Compare(string label, IBackend reference, IBackend cuda, ParitySize size)
    {
        var clock = Stopwatch.StartNew();
        var results = BackendParity.Run(reference, cuda, size);
        foreach (var r in results) Console.WriteLine($"[{label}] {r}");
        int failed = results.Count(r => !r.Passed);
        Console.WriteLine($"[{label}] {results.Count - failed}/{results.Count} passed in {clock.Elapsed.TotalSeconds:F1} s");
        return failed;
    }
}
