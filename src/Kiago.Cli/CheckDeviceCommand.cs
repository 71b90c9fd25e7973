using System.CommandLine;
using System.Diagnostics;
using Kiago.Kernels.Composition;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Cli;

/// <summary>
/// `kiago check-device`: every engine op on an ILGPU device (CUDA by default) against the SIMD CPU backend
/// (<see cref="BackendParity"/>) and the optimiser's composition kernel against the CPU one
/// (<see cref="CompositionParity"/>), one line per comparison, so a user can trust a GPU before a long run.
/// `--resnet` adds the ResNet18/ElemNet layer shapes. `--device auto` (the default, as everywhere) tests CUDA when a
/// device is present and the ILGPU CPU accelerator otherwise. Exit 0 all agree, 2 no such device (an input error,
/// as in every command), 3 a mismatch (a defect of the device or the engine).
/// </summary>
internal static class CheckDeviceCommand
{
    public static Command Create()
    {
        var resnet = new Option<bool>("--resnet") { Description = "also compare at ResNet18/ElemNet layer shapes (slower)" };
        var command = new Command("check-device", "Check that a device computes every engine op like the SIMD CPU backend.")
        {
            resnet,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            int threads = compute.ThreadCount(parse);
            using var tested = compute.Request(parse) switch
            {
                DeviceRequest.Cuda => IlgpuBackend.CreateCuda(),
                DeviceRequest.IlgpuCpu => IlgpuBackend.CreateCpu(),
                DeviceRequest.Auto => IlgpuBackend.TryCreateCuda(out _) ?? IlgpuBackend.CreateCpu(),
                _ => throw new UserInputException("--device cpu: the SIMD CPU backend is the reference check-device compares against; " +
                    "give --device cuda, ilgpu-cpu or auto"),
            };
            output.WriteLine($"device: {tested.DeviceName}");
            output.WriteLine($"gemm kernel: {tested.GemmMode.ToString().ToLowerInvariant()} ({IlgpuBackend.GemmEnvironmentVariable}=auto|simple|tiled)");
            output.WriteLine($"tiling: {tested.Tiling} (KIAGO_ILGPU_TILE=auto|RxC, KIAGO_ILGPU_TILE_K=16|8, KIAGO_ILGPU_PREFETCH=0|1, KIAGO_ILGPU_VEC4=0|1)");
            using var simd = new CpuBackend(threads);
            int failed = 0;
            if (tested.Kind == DeviceKind.Cuda)
            {
                using var ilgpuCpu = IlgpuBackend.CreateCpu();
                failed += Compare(output, "vs ilgpu-cpu, small", ilgpuCpu, tested, ParitySize.Small);
            }
            failed += Compare(output, "vs simd, small", simd, tested, ParitySize.Small);
            if (parse.GetValue(resnet)) failed += Compare(output, "vs simd, resnet shapes", simd, tested, ParitySize.ResNet);
            foreach (var distance in new[] { IntegerDistance.Squared, IntegerDistance.Absolute })
                failed += Report(output, "vs cpu, optimiser", () => CompositionParity.Run(tested, distance));
            output.WriteLine(failed == 0 ? "check-device: PASS" : $"check-device: FAIL ({failed} mismatches)");
            return failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    static int Compare(TextWriter output, string label, IBackend reference, IBackend tested, ParitySize size) =>
        Report(output, label, () => BackendParity.Run(reference, tested, size));

    static int Report(TextWriter output, string label, Func<IReadOnlyList<ParityResult>> run)
    {
        var clock = Stopwatch.StartNew();
        var results = run();
        foreach (var r in results) output.WriteLine($"[{label}] {r}");
        int failed = results.Count(r => !r.Passed);
        output.WriteLine($"[{label}] {results.Count - failed}/{results.Count} passed in {clock.Elapsed.TotalSeconds:F1} s");
        return failed;
    }
}
