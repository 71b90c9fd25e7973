using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>Each GEMM micro-kernel family (AVX-512 12×16/12×32 with 4-row tails, AVX2 6×16, scalar) against a double-precision reference on ragged shapes.</summary>
public sealed class GemmPathTests
{
    static bool Supported(GemmPath path) => path switch
    {
        GemmPath.Avx512 => GemmKernel.Avx512Supported,
        GemmPath.Avx2 => GemmKernel.SimdSupported,
        _ => true,
    };

    [Theory]
    [InlineData(nameof(GemmPath.Avx512))]
    [InlineData(nameof(GemmPath.Avx2))]
    [InlineData(nameof(GemmPath.Scalar))]
    public unsafe void Path_matches_reference_on_ragged_shapes(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        if (!Supported(path))
        {
            // This CPU lacks the instructions: the forced path must refuse rather than fault.
            var packed = new PackedMatrix(1, 1);
            float[] one = [1f], outC = [0f];
            Assert.Throws<PlatformNotSupportedException>(() =>
            {
                fixed (float* a = one) fixed (float* c = outC) GemmKernel.Multiply(path, 1, a, 1, packed, 0, 1, c, 1, false);
            });
            return;
        }
        var random = new Random(12);
        foreach (int m in new[] { 1, 5, 6, 11, 12, 13, 16, 18, 22, 25, 37 })
        foreach (int k in new[] { 1, 7, 333, 650 })
        foreach (int n in new[] { 5, 16, 17, 40 })
        foreach (bool accumulate in new[] { false, true })
        foreach (bool paddedC in new[] { false, true })
            Check(path, random, m, k, n, accumulate, paddedC);
    }

    static unsafe void Check(GemmPath path, Random random, int m, int k, int n, bool accumulate, bool paddedC)
    {
        int lda = k + 3;
        var b = new PackedMatrix(k, n);
        int ldc = (paddedC ? b.NPadded : n) + 2;
        var a = Fill(random, m * lda);
        var bSource = Fill(random, k * n);
        var c = Fill(random, m * ldc);
        var expected = new double[m * ldc];
        for (int i = 0; i < c.Length; i++) expected[i] = c[i];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = accumulate ? c[i * ldc + j] : 0;
            for (int p = 0; p < k; p++) sum += (double)a[i * lda + p] * bSource[p * n + j];
            expected[i * ldc + j] = sum;
        }
        b.Pack(bSource, n, 1);
        fixed (float* ap = a) fixed (float* cp = c)
            GemmKernel.Multiply(path, m, ap, lda, b, 0, b.Panels, cp, ldc, accumulate, paddedC);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < ldc; j++)
        {
            if (j >= n && j < b.NPadded && paddedC) continue; // padded columns are scratch by contract
            double want = expected[i * ldc + j];
            Assert.True(Math.Abs(c[i * ldc + j] - want) <= 1e-4 * (1 + Math.Sqrt(k)),
                $"{path} m={m} k={k} n={n} acc={accumulate} padded={paddedC}: C[{i},{j}] = {c[i * ldc + j]}, want {want}");
        }
    }

    static float[] Fill(Random random, int count)
    {
        var data = new float[count];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return data;
    }
}
