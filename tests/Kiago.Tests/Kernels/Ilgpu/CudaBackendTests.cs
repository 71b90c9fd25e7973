using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// The CUDA path: run automatically when a CUDA device is present, reported as skipped with the reason otherwise.
/// Outputs are compared with ILGPU's CPU accelerator (same kernels, independent execution).
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class CudaBackendTests(IlgpuCpuFixture fixture)
{
    [CudaFact]
    public void Every_op_matches_the_cpu_accelerator_on_small_shapes()
    {
        using var cuda = IlgpuBackend.CreateCuda();
        var results = BackendParity.Run(fixture.Backend, cuda, ParitySize.Small);
        Assert.All(results, r => Assert.True(r.Passed, r.ToString()));
    }

    [CudaFact]
    public void Allocating_more_than_the_card_holds_names_the_device_and_sizes()
    {
        using var cuda = IlgpuBackend.CreateCuda();
        long tooMany = cuda.Accelerator.MemorySize / sizeof(float) + (1L << 28);
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => cuda.Allocate<float>(tooMany));
        Assert.Contains("out of memory on cuda:", e.Message);
        Assert.Contains("free of", e.Message);
    }

    [CudaFact]
    public void Device_name_reports_the_card_and_architecture()
    {
        using var cuda = IlgpuBackend.CreateCuda();
        Assert.Matches(@"^cuda: .+ \(sm_\d+, \d+ MiB\)$", cuda.DeviceName);
    }
}
