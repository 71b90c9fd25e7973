using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// C (+)= A·B with A row-major (unpacked, any leading dimension) and B packed (<see cref="PackedMatrix"/>).
/// The AVX2/FMA micro-kernel keeps a 6×16 block of C in 12 ymm registers; the loop order (K block → 16-column
/// panel → 6-row strip) keeps the kc×16 panel of B in L1 while the strips of A stream from L2.
/// A scalar kernel with the same blocking runs where AVX2/FMA is missing.
/// </summary>
internal static unsafe class GemmKernel
{
    public const int MR = 6;
    public const int NR = 16;
    public const int KBlock = 320;

    public static bool SimdSupported => Fma.IsSupported && Avx2.IsSupported;

    /// <summary>
    /// C[rows, columns of panels [panelStart, panelEnd)] = A[rows, K]·B (+ C when <paramref name="accumulate"/>).
    /// </summary>
    /// <remarks><paramref name="paddedC"/>: C has room for whole 16-column panels (ldc ≥ b.NPadded), so partial
    /// panels are stored full width (the padded columns receive zeros) instead of taking the slow edge path.</remarks>
    public static void Multiply(bool simd, int rows, float* a, int lda, PackedMatrix b, int panelStart, int panelEnd,
        float* c, int ldc, bool accumulate, bool paddedC = false)
    {
        if (rows <= 0 || panelEnd <= panelStart) return;
        if (b.K == 0)
        {
            if (!accumulate)
                for (int i = 0; i < rows; i++)
                    new Span<float>(c + (long)i * ldc + panelStart * NR, Math.Min(b.N, panelEnd * NR) - panelStart * NR).Clear();
            return;
        }
        fixed (float* bData = b.Data)
        {
            for (int block = 0; block < b.KBlocks; block++)
            {
                int k0 = b.BlockStart(block), kc = b.BlockLength(block);
                bool acc = accumulate || block > 0;
                for (int panel = panelStart; panel < panelEnd; panel++)
                {
                    float* bp = bData + (long)k0 * b.NPadded + (long)panel * kc * NR;
                    int col0 = panel * NR, width = paddedC ? NR : Math.Min(NR, b.N - col0);
                    for (int i0 = 0; i0 < rows; i0 += MR)
                    {
                        int r = Math.Min(MR, rows - i0);
                        float* ap = a + (long)i0 * lda + k0;
                        float* cp = c + (long)i0 * ldc + col0;
                        if (!simd) MicroScalar(r, width, kc, ap, lda, bp, cp, ldc, acc);
                        else if (width == NR && r == MR) Micro6x16(kc, ap, lda, bp, cp, ldc, acc);
                        else MicroEdge(r, width, kc, ap, lda, bp, cp, ldc, acc);
                    }
                }
            }
        }
    }

    /// <summary>c[i, col0..col1) = relu?(c + bias[col]) for each of <paramref name="rows"/> rows.</summary>
    public static void Epilogue(int rows, int col0, int col1, float* c, int ldc, float* bias, bool relu)
    {
        if (bias == null && !relu) return;
        for (int i = 0; i < rows; i++)
        {
            float* row = c + (long)i * ldc;
            for (int j = col0; j < col1; j++)
            {
                float v = row[j];
                if (bias != null) v += bias[j];
                row[j] = relu && !(v > 0f) ? 0f : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro6x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        float* c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        if (accumulate)
        {
            c00 = Avx.LoadVector256(c0); c01 = Avx.LoadVector256(c0 + 8);
            c10 = Avx.LoadVector256(c1); c11 = Avx.LoadVector256(c1 + 8);
            c20 = Avx.LoadVector256(c2); c21 = Avx.LoadVector256(c2 + 8);
            c30 = Avx.LoadVector256(c3); c31 = Avx.LoadVector256(c3 + 8);
            c40 = Avx.LoadVector256(c4); c41 = Avx.LoadVector256(c4 + 8);
            c50 = Avx.LoadVector256(c5); c51 = Avx.LoadVector256(c5 + 8);
        }
        else
        {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = Vector256<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            b += NR;
            var x = Avx.BroadcastScalarToVector256(a0 + p);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Avx.BroadcastScalarToVector256(a1 + p);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Avx.BroadcastScalarToVector256(a2 + p);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Avx.BroadcastScalarToVector256(a3 + p);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Avx.BroadcastScalarToVector256(a4 + p);
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Avx.BroadcastScalarToVector256(a5 + p);
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
        }
        Avx.Store(c0, c00); Avx.Store(c0 + 8, c01);
        Avx.Store(c1, c10); Avx.Store(c1 + 8, c11);
        Avx.Store(c2, c20); Avx.Store(c2 + 8, c21);
        Avx.Store(c3, c30); Avx.Store(c3 + 8, c31);
        Avx.Store(c4, c40); Avx.Store(c4 + 8, c41);
        Avx.Store(c5, c50); Avx.Store(c5 + 8, c51);
    }

    /// <summary>Fewer than 6 rows or a partial panel: one row at a time through a 16-wide stack tile.</summary>
    static void MicroEdge(int rows, int width, int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* tile = stackalloc float[NR];
        for (int i = 0; i < rows; i++)
        {
            float* ai = a + (long)i * lda;
            float* ci = c + (long)i * ldc;
            Vector256<float> lo = Vector256<float>.Zero, hi = Vector256<float>.Zero;
            float* bp = b;
            for (int p = 0; p < kc; p++, bp += NR)
            {
                var x = Avx.BroadcastScalarToVector256(ai + p);
                lo = Fma.MultiplyAdd(x, Avx.LoadVector256(bp), lo);
                hi = Fma.MultiplyAdd(x, Avx.LoadVector256(bp + 8), hi);
            }
            Avx.Store(tile, lo);
            Avx.Store(tile + 8, hi);
            if (accumulate) for (int j = 0; j < width; j++) ci[j] += tile[j];
            else for (int j = 0; j < width; j++) ci[j] = tile[j];
        }
    }

    static void MicroScalar(int rows, int width, int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        float* acc = stackalloc float[NR];
        for (int i = 0; i < rows; i++)
        {
            float* ai = a + (long)i * lda;
            float* ci = c + (long)i * ldc;
            for (int j = 0; j < NR; j++) acc[j] = 0f;
            float* bp = b;
            for (int p = 0; p < kc; p++, bp += NR)
            {
                float x = ai[p];
                for (int j = 0; j < NR; j++) acc[j] += x * bp[j];
            }
            if (accumulate) for (int j = 0; j < width; j++) ci[j] += acc[j];
            else for (int j = 0; j < width; j++) ci[j] = acc[j];
        }
    }
}

/// <summary>How a GEMM of M rows and some 16-column panels is cut into parallel tiles.</summary>
internal readonly record struct GemmTiling(int RowBlock, int RowBlocks, int PanelChunk, int PanelChunks)
{
    public int Count => RowBlocks * PanelChunks;

    public static GemmTiling Plan(int m, int panels, int threads)
    {
        const int rowBlock = 96;
        int rowBlocks = Math.Max(1, (m + rowBlock - 1) / rowBlock);
        int wanted = threads <= 1 ? 1 : 4 * threads;
        int chunks = rowBlocks >= wanted ? 1 : Math.Min(Math.Max(1, panels), (wanted + rowBlocks - 1) / rowBlocks);
        int chunk = Math.Max(1, (panels + chunks - 1) / chunks);
        chunks = Math.Max(1, (panels + chunk - 1) / chunk);
        return new GemmTiling(rowBlock, rowBlocks, chunk, chunks);
    }
}
