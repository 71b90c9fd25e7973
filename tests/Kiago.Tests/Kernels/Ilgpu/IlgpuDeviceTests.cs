using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>Device selection and memory errors: clear messages instead of ILGPU's.</summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuDeviceTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Cpu_accelerator_reports_its_kind_and_two_by_two_threads()
    {
        Assert.Equal(DeviceKind.IlgpuCpu, fixture.Backend.Kind);
        Assert.StartsWith("ilgpu-cpu:", fixture.Backend.DeviceName);
        Assert.Equal(4, fixture.Backend.Accelerator.MaxNumThreads);
    }

    [Fact]
    public void Cuda_is_created_or_the_reason_is_given()
    {
        using var cuda = IlgpuBackend.TryCreateCuda(out var reason);
        if (cuda is not null)
        {
            Assert.Equal(DeviceKind.Cuda, cuda.Kind);
            Assert.StartsWith("cuda:", cuda.DeviceName);
            return;
        }
        Assert.False(string.IsNullOrWhiteSpace(reason));
        var e = Assert.Throws<NoCudaDeviceException>(IlgpuBackend.CreateCuda);
        Assert.StartsWith("no CUDA device found: ", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void An_impossible_allocation_becomes_a_clear_out_of_memory_error()
    {
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => fixture.Backend.Allocate<float>(1L << 50));
        Assert.Contains("out of memory on ilgpu-cpu", e.Message);
        Assert.Contains("4294967296.0 MiB", e.Message); // 2^50 floats = 4 PiB
        Assert.Contains("--candidates", e.Message);
    }

    [Fact]
    public void Out_of_memory_while_allocating_a_planned_batch_estimates_the_largest_batch()
    {
        var backend = fixture.Backend;
        backend.PlannedBatch = 1000;
        try
        {
            using var small = backend.Allocate<float>(1 << 20); // 4 MiB for 1000 candidates so far
            Assert.True(backend.BufferBytes >= 4L << 20);
            var e = Assert.Throws<DeviceOutOfMemoryException>(() => backend.Allocate<float>(1L << 50));
            Assert.Contains("the 1000-candidate buffers need at least", e.Message);
            Assert.Contains("per candidate", e.Message);
            Assert.Contains("not even one candidate fits", e.Message); // 4 PiB / 1000 per candidate: none fits
        }
        finally
        {
            backend.PlannedBatch = 0;
        }
    }

    [Fact]
    public void Weights_and_buffers_are_counted_and_released()
    {
        var backend = fixture.Backend;
        long weights = backend.WeightBytes, buffers = backend.BufferBytes;
        using (var conv = backend.PrepareConv2d(new Conv2dSpec(2, 3, 3, 4, 3, 3), new float[72], []))
        using (var buffer = backend.Allocate<float>(100))
        {
            Assert.True(backend.WeightBytes > weights);
            Assert.Equal(buffers + 400, backend.BufferBytes);
        }
        Assert.Equal(weights, backend.WeightBytes);
        Assert.Equal(buffers, backend.BufferBytes);
    }

    [Fact]
    public void A_batch_that_does_not_fit_names_the_largest_that_does()
    {
        var backend = fixture.Backend;
        long free = backend.FreeMemoryBytes;
        long perCandidate = free / 1000; // ~950 candidates fit after the 5 % head-room
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => backend.EnsureBatchFits(4096, 0, perCandidate));
        int largest = DeviceMemory.LargestBatch(0, perCandidate, free);
        Assert.InRange(largest, 900, 960);
        Assert.Contains($"the largest batch that fits is {largest} candidates", e.Message);
        backend.EnsureBatchFits(largest / 2, 0, perCandidate); // fits: no exception
    }

    [Theory]
    [InlineData(0, 100, 1000, 9)]    // 950 usable / 100
    [InlineData(500, 100, 1000, 4)]  // (950 − 500) / 100
    [InlineData(2000, 100, 1000, 0)] // weights alone do not fit
    public void LargestBatch_keeps_headroom(long fixedBytes, long perCandidate, long free, int expected) =>
        Assert.Equal(expected, DeviceMemory.LargestBatch(fixedBytes, perCandidate, free));
}
