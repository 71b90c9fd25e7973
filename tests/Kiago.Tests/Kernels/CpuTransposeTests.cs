using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The conv's NCHW ↔ channels-last transposes: 8×8 AVX tiles plus scalar edges, and the branch-free epilogue.</summary>
public sealed unsafe class CpuTransposeTests
{
    [Theory]
    [InlineData(8, 8)]
    [InlineData(4, 224)]    // stem input: 4 channels × 7·32 pixels (scalar rows only)
    [InlineData(64, 16)]    // layer1 output: 64 channels × 2·8 pixels
    [InlineData(13, 21)]    // tiles plus ragged row and column edges
    [InlineData(1, 5)]
    [InlineData(17, 1)]
    public void Transpose_matches_index_formula(int rows, int cols)
    {
        const int srcStride = 300, dstStride = 260;
        var src = new float[rows * srcStride];
        for (int i = 0; i < src.Length; i++) src[i] = i * 0.5f - 7f;
        var dst = new float[cols * dstStride];
        Array.Fill(dst, float.NaN);
        fixed (float* s = src) fixed (float* d = dst) Transpose.Run(s, srcStride, d, dstStride, rows, cols);
        for (int j = 0; j < cols; j++)
        {
            for (int i = 0; i < rows; i++) Assert.Equal(src[i * srcStride + j], dst[j * dstStride + i]);
            for (int i = rows; i < dstStride; i++) Assert.True(float.IsNaN(dst[j * dstStride + i]), "wrote past the block");
        }
    }

    [Fact]
    public void Epilogue_relu_is_exact_for_signed_zero_nan_and_both_loops()
    {
        float[] values = [-0f, 0f, float.NaN, -1e-30f, 1e-30f, float.PositiveInfinity, float.NegativeInfinity, 3f, -3f, 0.5f, -0.5f];
        var c = new float[2 * 16];
        for (int i = 0; i < c.Length; i++) c[i] = values[i % values.Length];
        var expected = c.Select(v => v > 0f ? v : 0f).ToArray();
        fixed (float* p = c) GemmKernel.Epilogue(2, 0, 11, p, 16, null, relu: true); // 8-wide vector part + 3 scalar
        for (int r = 0; r < 2; r++)
            for (int j = 0; j < 16; j++)
            {
                float want = j < 11 ? expected[r * 16 + j] : values[(r * 16 + j) % values.Length];
                Assert.Equal(BitConverter.SingleToInt32Bits(want), BitConverter.SingleToInt32Bits(c[r * 16 + j]));
            }
    }
}
