using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

// General GEMM (the packed micro-kernel is GemmKernel.cs); the ILGPU side is Ilgpu/Ops/Gemm.cs.
public sealed partial class CpuBackend
{
    public unsafe void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c, float alpha = 1f, float beta = 0f)
    {
        const string op = "Gemm";
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"{op}: negative size M={m} N={n} K={k}");
        ShapeException.RequireShape(op, "a", a, transposeA ? [k, m] : [m, k]);
        ShapeException.RequireShape(op, "b", b, transposeB ? [n, k] : [k, n]);
        ShapeException.RequireShape(op, "c", c, m, n);
        var aa = Own(a, op, "a").Array;
        var ca = Own(c, op, "c").Array;
        if (m == 0 || n == 0) return;

        var packedStorage = Scratch.Rent((long)k * ((n + 15) / 16 * 16));
        float[]? transposedA = null;
        try
        {
            var packed = new PackedMatrix(k, n, packedStorage);
            packed.Pack(Own(b, op, "b").Array, transposeB ? 1 : n, transposeB ? k : 1, alpha);
            float[] rowMajorA = aa;
            if (transposeA)
            {
                transposedA = Scratch.Rent((long)m * k);
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        transposedA[(long)i * k + p] = aa[(long)p * m + i];
                rowMajorA = transposedA;
            }
            bool accumulate = beta != 0f;
            if (accumulate && beta != 1f) Scale(c, beta, (long)m * n);
            RunGemm(m, rowMajorA, k, packed, ca, n, accumulate, bias: null, relu: false);
        }
        finally
        {
            Scratch.Return(packedStorage);
            if (transposedA is not null) Scratch.Return(transposedA);
        }
    }

    /// <summary>C[m, N] (+)= A[m, K]·B, then relu?(C + bias), tiled over rows and column panels in parallel.</summary>
    internal unsafe void RunGemm(int m, float[] a, int lda, PackedMatrix b, float[] c, int ldc, bool accumulate, float[]? bias, bool relu)
    {
        var tiling = GemmTiling.Plan(m, b.Panels, (long)m * b.N * b.K < 200_000 ? 1 : Threads);
        bool simd = Simd;
        ParallelFor(tiling.Count, t =>
        {
            int rb = t / tiling.PanelChunks, pc = t % tiling.PanelChunks;
            int row0 = rb * tiling.RowBlock, rows = Math.Min(tiling.RowBlock, m - row0);
            int p0 = pc * tiling.PanelChunk, p1 = Math.Min(b.Panels, p0 + tiling.PanelChunk);
            fixed (float* ap = a) fixed (float* cp = c) fixed (float* bias0 = bias)
            {
                float* ct = cp + (long)row0 * ldc;
                GemmKernel.Multiply(simd, rows, ap + (long)row0 * lda, lda, b, p0, p1, ct, ldc, accumulate);
                GemmKernel.Epilogue(rows, p0 * GemmKernel.NR, Math.Min(b.N, p1 * GemmKernel.NR), ct, ldc, bias0, relu);
            }
        });
    }
}
