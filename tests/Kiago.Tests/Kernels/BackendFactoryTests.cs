using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels;

public class BackendFactoryTests
{
    [Theory]
    [InlineData("auto", DeviceRequest.Auto)]
    [InlineData("CPU", DeviceRequest.Cpu)]
    [InlineData("cuda", DeviceRequest.Cuda)]
    [InlineData("ilgpu-cpu", DeviceRequest.IlgpuCpu)]
    public void Parses_device_names(string text, DeviceRequest expected) => Assert.Equal(expected, BackendFactory.Parse(text));

    [Fact]
    public void Unknown_device_names_the_choices()
    {
        var e = Assert.Throws<InputException>(() => BackendFactory.Parse("tpu"));
        Assert.Contains("tpu", e.Message);
        Assert.Contains(BackendFactory.Choices, e.Message);
    }

    [Fact]
    public void Cpu_request_gives_the_simd_backend()
    {
        using var backend = BackendFactory.Create(DeviceRequest.Cpu);
        Assert.Equal(DeviceKind.Cpu, backend.Kind);
        Assert.False(string.IsNullOrWhiteSpace(backend.DeviceName));
    }

    [Fact]
    public void Auto_falls_back_to_cpu_without_cuda()
    {
        using var backend = BackendFactory.Create(DeviceRequest.Auto);
        bool cuda = IlgpuBackend.TryCreateCuda(out _) is { } probe && Dispose(probe);
        Assert.Equal(cuda ? DeviceKind.Cuda : DeviceKind.Cpu, backend.Kind);
    }

    [Fact]
    public void Cuda_request_without_device_says_why()
    {
        if (IlgpuBackend.TryCreateCuda(out _) is { } present) { present.Dispose(); return; } // a GPU machine: nothing to check
        var e = Assert.Throws<NoCudaDeviceException>(() => BackendFactory.Create(DeviceRequest.Cuda));
        Assert.Contains("no CUDA device", e.Message);
        Assert.Contains("--device cpu", e.Message);
    }

    static bool Dispose(IDisposable d) { d.Dispose(); return true; }
}
