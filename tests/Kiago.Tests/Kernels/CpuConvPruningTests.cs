using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The CPU conv keeps only taps that read real input for some output pixel (correctness is in BackendOpTests).</summary>
public sealed class CpuConvPruningTests
{
    [Theory]
    [InlineData(1, 1, 1, 1)] // 3×3 on 1×1: the centre tap only
    [InlineData(1, 2, 1, 3)] // 1×2: middle row, all three columns
    [InlineData(1, 2, 2, 2)] // stride 2 from 1×2 to 1×1: middle row, columns 1–2
    [InlineData(2, 8, 1, 9)] // 2×8: every tap reads something
    public void Taps_on_padding_only_are_pruned(int height, int width, int stride, int expectedTaps)
    {
        using var backend = new CpuBackend(threads: 1);
        var spec = new Conv2dSpec(2, height, width, 3, 3, 3, stride, stride, 1, 1, 1, 1);
        using var conv = (CpuConv2d)backend.PrepareConv2d(spec, new float[spec.WeightCount], []);
        Assert.Equal(expectedTaps, conv.LiveTapCount);
    }
}
