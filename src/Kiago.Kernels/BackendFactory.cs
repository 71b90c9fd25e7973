using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Kernels;

/// <summary>What the user asked for with <c>--device</c>.</summary>
public enum DeviceRequest
{
    /// <summary>CUDA when a device is present, otherwise the SIMD CPU backend.</summary>
    Auto,
    Cpu,
    Cuda,
    IlgpuCpu,
}

/// <summary>Turns a <c>--device</c> choice into a backend; the one place that knows every backend.</summary>
public static class BackendFactory
{
    public const string Choices = "auto|cpu|cuda|ilgpu-cpu";

    public static DeviceRequest Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => DeviceRequest.Auto,
        "cpu" => DeviceRequest.Cpu,
        "cuda" or "gpu" => DeviceRequest.Cuda,
        "ilgpu-cpu" => DeviceRequest.IlgpuCpu,
        _ => throw new InputException($"--device '{text}': unknown device, expected one of {Choices}"),
    };

    /// <summary>
    /// The CPUs this process may use: .NET's <see cref="Environment.ProcessorCount"/>, which on Linux counts the
    /// affinity mask (taskset, Slurm's --cpus-per-task binding) and a cgroup CPU quota (containers, Slurm cgroups),
    /// rounded up; DOTNET_PROCESSOR_COUNT overrides it. The default of every --threads.
    /// </summary>
    public static int AvailableCpus => Environment.ProcessorCount;

    /// <summary>Creates the backend. <c>Cuda</c> without a CUDA device throws <see cref="NoCudaDeviceException"/>.</summary>
    public static IBackend Create(DeviceRequest request, int? cpuThreads = null) => request switch
    {
        DeviceRequest.Cpu => new CpuBackend(cpuThreads),
        DeviceRequest.IlgpuCpu => IlgpuBackend.CreateCpu(),
        DeviceRequest.Cuda => IlgpuBackend.CreateCuda(),
        DeviceRequest.Auto => (IBackend?)IlgpuBackend.TryCreateCuda(out _) ?? new CpuBackend(cpuThreads),
        _ => throw new ArgumentOutOfRangeException(nameof(request), request, null),
    };

    public static IBackend Create(string device, int? cpuThreads = null) => Create(Parse(device), cpuThreads);
}
