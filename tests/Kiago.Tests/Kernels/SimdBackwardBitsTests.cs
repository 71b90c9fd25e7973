using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The 8-lane backward passes (fused activations, LayerNorm) and the batched products give the scalar path's bits (SIMD on vs off), tails included.</summary>
public class SimdBackwardBitsTests
{
    /// <summary>Uploads <paramref name="inputs"/>, runs <paramref name="op"/> into an output as long as the first input, downloads it.</summary>
    static float[] OnCpu(bool simd, float[][] inputs, Action<CpuBackend, DeviceBuffer<float>[], DeviceBuffer<float>> op)
    {
        using var backend = new CpuBackend(threads: 2, allowSimd: simd);
        var buffers = inputs.Select(v =>
        {
            var b = backend.Allocate<float>(v.Length);
            backend.Upload<float>(v, b);
            return b;
        }).ToArray();
        try
        {
            using var output = backend.Allocate<float>(inputs[0].Length);
            op(backend, buffers, output);
            var host = new float[inputs[0].Length];
            backend.Download(output, host);
            return host;
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    static void AssertSameBits(float[] simd, float[] scalar, Func<int, string> where)
    {
        for (int i = 0; i < simd.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]), $"{where(i)}: SIMD {simd[i]:R}, scalar {scalar[i]:R}");
    }

    [Theory]
    [InlineData(6, 6, 16, false, true)]   // attention scores Q·Kᵀ: all 6 columns in the padded tail
    [InlineData(6, 16, 6, false, false)]  // A·V
    [InlineData(6, 19, 5, true, false)]   // two full blocks and a 3-wide tail, A transposed
    [InlineData(3, 1, 7, true, true)]
    public void BatchedGemm_has_the_same_bits_with_simd_on_or_off(int m, int n, int k, bool ta, bool tb)
    {
        const int count = 37;
        var rnd = new Random(m * 1000 + n * 10 + k);
        float[] Draw(int length) => [.. Enumerable.Range(0, length).Select(_ => (float)(rnd.NextDouble() * 2 - 1))];
        var a = Draw(count * m * k);
        var b = Draw(count * k * n);
        float[] Run(bool simd) => OnCpu(simd, [new float[count * m * n], a, b], (backend, v, c) => backend.BatchedGemm(count, m, n, k, v[1], ta, v[2], tb, c));
        AssertSameBits(Run(true), Run(false), i => $"c[{i}]");
    }

    [Theory]
    [InlineData(7, 64)]
    [InlineData(5, 13)]
    [InlineData(3, 3)]
    public void LayerNorm_backward_has_the_same_bits_with_simd_on_or_off(int rows, int width)
    {
        var rnd = new Random(rows * 100 + width);
        float[] Draw(int n, double scale, double shift) => [.. Enumerable.Range(0, n).Select(_ => (float)(shift + scale * (rnd.NextDouble() - 0.5)))];
        var x = Draw(rows * width, 6, 0.3);
        var dy = Draw(rows * width, 2, 0);
        var gamma = Draw(width, 1, 1);
        var spec = new LayerNormSpec(rows, width, 1e-5f);
        float[] Run(bool simd) => OnCpu(simd, [x, gamma, dy], (backend, v, dx) => backend.LayerNormBackward(spec, v[0], v[1], v[2], dx));
        AssertSameBits(Run(true), Run(false), i => $"dx[{i}]");
    }

    [Theory]
    [InlineData(UnaryKind.Gelu, 0.70710677f)]
    [InlineData(UnaryKind.Silu, 0.01f)]
    public void Simd_and_scalar_backward_give_the_same_bits(UnaryKind kind, float alpha)
    {
        var rnd = new Random(11);
        // 1003: not a multiple of 8 or of a thread's share, so the scalar tail runs too
        var x = Enumerable.Range(0, 1003).Select(_ => (float)(rnd.NextDouble() * 16 - 8))
            .Concat([0f, -0f, 30f, -30f, 1e-20f, -1e-20f]).ToArray();
        var dy = x.Select(_ => (float)(rnd.NextDouble() * 2 - 1)).ToArray();
        var spec = new UnarySpec(kind, alpha);
        float[] Run(bool simd) => OnCpu(simd, [x, dy], (backend, v, dx) =>
        {
            using var y = backend.Allocate<float>(x.Length);
            backend.Unary(spec, v[0], y, x.Length);
            backend.UnaryBackward(spec, v[0], y, v[1], dx, x.Length);
        });
        var on = Run(true);
        AssertSameBits(on, Run(false), i => $"{kind}' at x = {x[i]:R}");
        // and it is the derivative: central differences of the forward on a few points away from the tails
        for (int i = 0; i < 40; i++)
        {
            double h = 1e-3, xi = x[i];
            double fd = (UnarySpec.Forward(kind, (float)(xi + h), alpha, float.NegativeInfinity, float.PositiveInfinity)
                - UnarySpec.Forward(kind, (float)(xi - h), alpha, float.NegativeInfinity, float.PositiveInfinity)) / (2 * h);
            Assert.Equal(fd * dy[i], on[i], 2e-3);
        }
    }
}
