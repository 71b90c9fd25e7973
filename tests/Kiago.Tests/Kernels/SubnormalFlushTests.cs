using System.Runtime.InteropServices;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>
/// The SIMD CPU kernels flush subnormal operands and results to zero on every thread they run on (x86-64 Linux, the
/// platform CI and the clusters run): a subnormal weight counts as 0 and a product below 2^-126 becomes 0, both on the
/// calling thread and on the parallel workers. Elsewhere the kernels keep IEEE subnormals, and the test checks that.
/// </summary>
public sealed class SubnormalFlushTests
{
    static bool FlushExpected => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    [Fact]
    public void Flushing_is_on_where_the_platform_allows_it()
    {
        Assert.Equal(FlushExpected, CpuBackend.FlushesSubnormals);
    }

    [Fact]
    public void A_parallel_GEMM_treats_subnormal_weights_and_products_as_zero()
    {
        const int batch = 1024, inFeatures = 64, outFeatures = 64; // 4M multiply-adds: split over both workers
        using var backend = new CpuBackend(2);
        // even weights are subnormal (DAZ: read as 0); odd ones are 1e-20, whose product with an input of 1e-20 is
        // 1e-40, subnormal (FTZ: stored as 0)
        var weight = new float[outFeatures * inFeatures];
        for (int i = 0; i < weight.Length; i++) weight[i] = i % 2 == 0 ? 1e-39f : 1e-20f;
        Assert.True(float.IsSubnormal(weight[0]));
        var input = new float[batch * inFeatures];
        for (int b = 0; b < batch; b++)
            for (int k = 0; k < inFeatures; k++) input[b * inFeatures + k] = k % 2 == 0 ? 1f : 1e-20f;
        using var linear = backend.PrepareLinear(new LinearSpec(inFeatures, outFeatures), weight, []);
        using var x = backend.Allocate<float>(input.Length);
        using var y = backend.Allocate<float>((long)batch * outFeatures);
        backend.Upload<float>(input, x);
        linear.Forward(batch, x, y);
        var host = new float[batch * outFeatures];
        backend.Download(y, host);
        // without flushing: 32 terms of 1e-39 · 1 and 32 of 1e-20 · 1e-20, a subnormal sum near 3.5e-38 in every row
        if (FlushExpected) Assert.All(host, v => Assert.Equal(0f, v));
        else Assert.All(host, v => Assert.True(v > 0f && v < 1.2e-37f, $"{v}"));
    }

    [Fact]
    public void An_elementwise_kernel_on_the_calling_thread_flushes_a_subnormal_result()
    {
        using var backend = new CpuBackend(1);
        using var x = backend.Allocate<float>(4);
        using var y = backend.Allocate<float>(4);
        backend.Upload<float>([1e-38f, 2e-38f, 1f, -1e-38f], x);
        backend.Fill(y, 0f, 4);
        backend.Axpy(0.25f, x, y, 4); // 2.5e-39, 5e-39 and -2.5e-39 are subnormal
        var host = new float[4];
        backend.Download(y, host);
        Assert.Equal(0.25f, host[2]);
        if (FlushExpected) Assert.Equal([0f, 0f, 0.25f, 0f], host.Select(v => v == 0 ? 0f : v).ToArray());
        else Assert.True(float.IsSubnormal(host[0]) && float.IsSubnormal(host[1]) && float.IsSubnormal(host[3]));
    }
}
