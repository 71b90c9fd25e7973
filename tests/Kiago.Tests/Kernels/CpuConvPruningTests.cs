using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The CPU conv keeps, per class of output pixels, only taps that read real input (correctness is in BackendOpTests).</summary>
public sealed class CpuConvPruningTests
{
    [Theory]
    [InlineData(1, 1, 1, new[] { 1 })]    // 3×3 on 1×1: the centre tap only
    [InlineData(1, 2, 1, new[] { 2, 2 })] // 1×2: middle row; column 0 sees kernel columns 1–2, column 1 sees 0–1
    [InlineData(1, 2, 2, new[] { 2 })]    // stride 2 from 1×2 to 1×1: middle row, columns 1–2
    [InlineData(2, 8, 1, new[] { 6, 6 })] // 2×8: output row 0 sees kernel rows 1–2, row 1 sees rows 0–1 (column split saves < 10%)
    [InlineData(4, 5, 1, new[] { 4, 6, 4, 6, 9, 6, 4, 6, 4 })] // 4×5: {top, middle two, bottom} × {left, middle three, right}
    public void Taps_on_padding_only_are_pruned_per_tap_class(int height, int width, int stride, int[] expectedTaps)
    {
        using var backend = new CpuBackend(threads: 1);
        var spec = new Conv2dSpec(2, height, width, 3, 3, 3, stride, stride, 1, 1, 1, 1);
        using var conv = (CpuConv2d)backend.PrepareConv2d(spec, new float[spec.WeightCount], []);
        Assert.Equal(expectedTaps, conv.ClassTapCounts);
    }

    [Fact]
    public void Resnet_stem_has_one_class_per_output_row()
    {
        using var backend = new CpuBackend(threads: 1);
        var spec = new Conv2dSpec(4, 7, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3);
        using var conv = (CpuConv2d)backend.PrepareConv2d(spec, new float[spec.WeightCount], []);
        Assert.Equal([28, 42, 42, 28], conv.ClassTapCounts); // kernel rows 3–6, 1–6, 0–5, 0–3 × 7 columns
    }
}
