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

    /// <summary>Rows per strip of the AVX-512 micro-kernel (12 zmm accumulators, one per 16-column row of C).</summary>
    public const int MR512 = 12;

    public static bool Avx512Supported => SimdSupported && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>The fastest path this CPU runs for the given SIMD permission.</summary>
    public static GemmPath BestPath(bool simd) => !simd ? GemmPath.Scalar : Avx512Supported ? GemmPath.Avx512 : GemmPath.Avx2;

    public static void Multiply(bool simd, int rows, float* a, int lda, PackedMatrix b, int panelStart, int panelEnd,
        float* c, int ldc, bool accumulate, bool paddedC = false) =>
        Multiply(BestPath(simd), rows, a, lda, b, panelStart, panelEnd, c, ldc, accumulate, paddedC);

    /// <summary>
    /// C[rows, columns of panels [panelStart, panelEnd)] = A[rows, K]·B (+ C when <paramref name="accumulate"/>).
    /// </summary>
    /// <remarks><paramref name="paddedC"/>: C has room for whole 16-column panels (ldc ≥ b.NPadded), so partial
    /// panels are stored full width (the padded columns receive zeros) instead of taking the slow edge path.</remarks>
    public static void Multiply(GemmPath path, int rows, float* a, int lda, PackedMatrix b, int panelStart, int panelEnd,
        float* c, int ldc, bool accumulate, bool paddedC = false)
    {
        if (path == GemmPath.Avx512 && !Avx512Supported) throw new PlatformNotSupportedException("AVX-512F GEMM path on a CPU without AVX-512F");
        if (path == GemmPath.Avx2 && !SimdSupported) throw new PlatformNotSupportedException("AVX2/FMA GEMM path on a CPU without AVX2/FMA");
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
                    int i0 = 0;
                    if (path == GemmPath.Avx512 && width == NR)
                    {
                        // Two full panels side by side: 12×32 of C, two B loads per 12 broadcasts of A.
                        bool pair = panel + 1 < panelEnd && (paddedC || col0 + 2 * NR <= b.N);
                        if (pair)
                        {
                            for (; i0 + MR512 <= rows; i0 += MR512)
                                Micro12x32(kc, a + (long)i0 * lda + k0, lda, bp, c + (long)i0 * ldc + col0, ldc, acc);
                            for (; i0 + 4 <= rows; i0 += 4)
                                Micro4x32(kc, a + (long)i0 * lda + k0, lda, bp, c + (long)i0 * ldc + col0, ldc, acc);
                            StripTail(path, i0, rows, NR, kc, a + k0, lda, bp, c + col0, ldc, acc);
                            StripTail(path, i0, rows, NR, kc, a + k0, lda, bp + kc * NR, c + col0 + NR, ldc, acc);
                            panel++;
                            continue;
                        }
                        for (; i0 + MR512 <= rows; i0 += MR512)
                            Micro12x16(kc, a + (long)i0 * lda + k0, lda, bp, c + (long)i0 * ldc + col0, ldc, acc);
                        for (; i0 + 4 <= rows; i0 += 4)
                            Micro4x16(kc, a + (long)i0 * lda + k0, lda, bp, c + (long)i0 * ldc + col0, ldc, acc);
                    }
                    StripTail(path, i0, rows, width, kc, a + k0, lda, bp, c + col0, ldc, acc);
                }
            }
        }
    }

    /// <summary>Rows [i0, rows) of one panel in 6-row strips (AVX2 6×16, the edge kernel, or scalar).</summary>
    static void StripTail(GemmPath path, int i0, int rows, int width, int kc, float* a, int lda, float* bp, float* c, int ldc, bool acc)
    {
        for (; i0 < rows; i0 += MR)
        {
            int r = Math.Min(MR, rows - i0);
            float* ap = a + (long)i0 * lda;
            float* cp = c + (long)i0 * ldc;
            if (path == GemmPath.Scalar) MicroScalar(r, width, kc, ap, lda, bp, cp, ldc, acc);
            else if (width == NR && r == MR) Micro6x16(kc, ap, lda, bp, cp, ldc, acc);
            else MicroEdge(r, width, kc, ap, lda, bp, cp, ldc, acc);
        }
    }

    /// <summary>c[i, col0..col1) = relu?(c + bias[col]) for each of <paramref name="rows"/> rows.</summary>
    /// <remarks>Branch-free: ReLU keeps v where v &gt; 0 and writes +0 otherwise (NaN → 0), in the vector and the
    /// scalar loop alike, so both give the same bytes. A branch per element cost ~15 ns on random signs.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Epilogue(int rows, int col0, int col1, float* c, int ldc, float* bias, bool relu)
    {
        if (bias == null && !relu) return;
        for (int i = 0; i < rows; i++)
        {
            float* row = c + (long)i * ldc;
            int j = col0;
            if (Vector256.IsHardwareAccelerated)
                for (; j + 8 <= col1; j += 8)
                {
                    var v = Vector256.Load(row + j);
                    if (bias != null) v += Vector256.Load(bias + j);
                    if (relu) v &= Vector256.GreaterThan(v, Vector256<float>.Zero);
                    v.Store(row + j);
                }
            for (; j < col1; j++)
            {
                float v = row[j];
                if (bias != null) v += bias[j];
                row[j] = relu ? ReluScalar(v) : v;
            }
        }
    }

    /// <summary>max(v, 0) as a bit mask (no branch): v where v &gt; 0, else +0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReluScalar(float v)
    {
        uint mask = 0u - (v > 0f ? 1u : 0u);
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & mask);
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

    /// <summary>AVX-512: a 12×16 block of C in 12 zmm registers, one FMA per broadcast element of A.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro12x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
        long ld = ldc;
        if (accumulate)
        {
            c0 = Avx512F.LoadVector512(c); c1 = Avx512F.LoadVector512(c + ld);
            c2 = Avx512F.LoadVector512(c + 2 * ld); c3 = Avx512F.LoadVector512(c + 3 * ld);
            c4 = Avx512F.LoadVector512(c + 4 * ld); c5 = Avx512F.LoadVector512(c + 5 * ld);
            c6 = Avx512F.LoadVector512(c + 6 * ld); c7 = Avx512F.LoadVector512(c + 7 * ld);
            c8 = Avx512F.LoadVector512(c + 8 * ld); c9 = Avx512F.LoadVector512(c + 9 * ld);
            c10 = Avx512F.LoadVector512(c + 10 * ld); c11 = Avx512F.LoadVector512(c + 11 * ld);
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        float* a6 = a5 + lda, a7 = a6 + lda, a8 = a7 + lda, a9 = a8 + lda, a10 = a9 + lda, a11 = a10 + lda;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx512F.LoadVector512(b);
            b += NR;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[p]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[p]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[p]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[p]), bv, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[p]), bv, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a5[p]), bv, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[p]), bv, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a7[p]), bv, c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a8[p]), bv, c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a9[p]), bv, c9);
            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(a10[p]), bv, c10);
            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(a11[p]), bv, c11);
        }
        Avx512F.Store(c, c0); Avx512F.Store(c + ld, c1);
        Avx512F.Store(c + 2 * ld, c2); Avx512F.Store(c + 3 * ld, c3);
        Avx512F.Store(c + 4 * ld, c4); Avx512F.Store(c + 5 * ld, c5);
        Avx512F.Store(c + 6 * ld, c6); Avx512F.Store(c + 7 * ld, c7);
        Avx512F.Store(c + 8 * ld, c8); Avx512F.Store(c + 9 * ld, c9);
        Avx512F.Store(c + 10 * ld, c10); Avx512F.Store(c + 11 * ld, c11);
    }

    /// <summary>AVX-512: a 12×32 block of C (two adjacent packed panels) in 24 zmm registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro12x32(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11;
        Vector512<float> d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11;
        long ld = ldc;
        if (accumulate)
        {
            c0 = Avx512F.LoadVector512(c); d0 = Avx512F.LoadVector512(c + NR);
            c1 = Avx512F.LoadVector512(c + ld); d1 = Avx512F.LoadVector512(c + ld + NR);
            c2 = Avx512F.LoadVector512(c + 2 * ld); d2 = Avx512F.LoadVector512(c + 2 * ld + NR);
            c3 = Avx512F.LoadVector512(c + 3 * ld); d3 = Avx512F.LoadVector512(c + 3 * ld + NR);
            c4 = Avx512F.LoadVector512(c + 4 * ld); d4 = Avx512F.LoadVector512(c + 4 * ld + NR);
            c5 = Avx512F.LoadVector512(c + 5 * ld); d5 = Avx512F.LoadVector512(c + 5 * ld + NR);
            c6 = Avx512F.LoadVector512(c + 6 * ld); d6 = Avx512F.LoadVector512(c + 6 * ld + NR);
            c7 = Avx512F.LoadVector512(c + 7 * ld); d7 = Avx512F.LoadVector512(c + 7 * ld + NR);
            c8 = Avx512F.LoadVector512(c + 8 * ld); d8 = Avx512F.LoadVector512(c + 8 * ld + NR);
            c9 = Avx512F.LoadVector512(c + 9 * ld); d9 = Avx512F.LoadVector512(c + 9 * ld + NR);
            c10 = Avx512F.LoadVector512(c + 10 * ld); d10 = Avx512F.LoadVector512(c + 10 * ld + NR);
            c11 = Avx512F.LoadVector512(c + 11 * ld); d11 = Avx512F.LoadVector512(c + 11 * ld + NR);
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = c8 = c9 = c10 = c11 = Vector512<float>.Zero;
            d0 = d1 = d2 = d3 = d4 = d5 = d6 = d7 = d8 = d9 = d10 = d11 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        float* a6 = a5 + lda, a7 = a6 + lda, a8 = a7 + lda, a9 = a8 + lda, a10 = a9 + lda, a11 = a10 + lda;
        float* b2 = b + (long)kc * NR;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx512F.LoadVector512(b + p * NR);
            var bw = Avx512F.LoadVector512(b2 + p * NR);
            var x = Vector512.Create(a0[p]); c0 = Avx512F.FusedMultiplyAdd(x, bv, c0); d0 = Avx512F.FusedMultiplyAdd(x, bw, d0);
            x = Vector512.Create(a1[p]); c1 = Avx512F.FusedMultiplyAdd(x, bv, c1); d1 = Avx512F.FusedMultiplyAdd(x, bw, d1);
            x = Vector512.Create(a2[p]); c2 = Avx512F.FusedMultiplyAdd(x, bv, c2); d2 = Avx512F.FusedMultiplyAdd(x, bw, d2);
            x = Vector512.Create(a3[p]); c3 = Avx512F.FusedMultiplyAdd(x, bv, c3); d3 = Avx512F.FusedMultiplyAdd(x, bw, d3);
            x = Vector512.Create(a4[p]); c4 = Avx512F.FusedMultiplyAdd(x, bv, c4); d4 = Avx512F.FusedMultiplyAdd(x, bw, d4);
            x = Vector512.Create(a5[p]); c5 = Avx512F.FusedMultiplyAdd(x, bv, c5); d5 = Avx512F.FusedMultiplyAdd(x, bw, d5);
            x = Vector512.Create(a6[p]); c6 = Avx512F.FusedMultiplyAdd(x, bv, c6); d6 = Avx512F.FusedMultiplyAdd(x, bw, d6);
            x = Vector512.Create(a7[p]); c7 = Avx512F.FusedMultiplyAdd(x, bv, c7); d7 = Avx512F.FusedMultiplyAdd(x, bw, d7);
            x = Vector512.Create(a8[p]); c8 = Avx512F.FusedMultiplyAdd(x, bv, c8); d8 = Avx512F.FusedMultiplyAdd(x, bw, d8);
            x = Vector512.Create(a9[p]); c9 = Avx512F.FusedMultiplyAdd(x, bv, c9); d9 = Avx512F.FusedMultiplyAdd(x, bw, d9);
            x = Vector512.Create(a10[p]); c10 = Avx512F.FusedMultiplyAdd(x, bv, c10); d10 = Avx512F.FusedMultiplyAdd(x, bw, d10);
            x = Vector512.Create(a11[p]); c11 = Avx512F.FusedMultiplyAdd(x, bv, c11); d11 = Avx512F.FusedMultiplyAdd(x, bw, d11);
        }
        Avx512F.Store(c, c0); Avx512F.Store(c + NR, d0);
        Avx512F.Store(c + ld, c1); Avx512F.Store(c + ld + NR, d1);
        Avx512F.Store(c + 2 * ld, c2); Avx512F.Store(c + 2 * ld + NR, d2);
        Avx512F.Store(c + 3 * ld, c3); Avx512F.Store(c + 3 * ld + NR, d3);
        Avx512F.Store(c + 4 * ld, c4); Avx512F.Store(c + 4 * ld + NR, d4);
        Avx512F.Store(c + 5 * ld, c5); Avx512F.Store(c + 5 * ld + NR, d5);
        Avx512F.Store(c + 6 * ld, c6); Avx512F.Store(c + 6 * ld + NR, d6);
        Avx512F.Store(c + 7 * ld, c7); Avx512F.Store(c + 7 * ld + NR, d7);
        Avx512F.Store(c + 8 * ld, c8); Avx512F.Store(c + 8 * ld + NR, d8);
        Avx512F.Store(c + 9 * ld, c9); Avx512F.Store(c + 9 * ld + NR, d9);
        Avx512F.Store(c + 10 * ld, c10); Avx512F.Store(c + 10 * ld + NR, d10);
        Avx512F.Store(c + 11 * ld, c11); Avx512F.Store(c + 11 * ld + NR, d11);
    }

    /// <summary>AVX-512 tail: 4 rows × 32 columns (8 independent accumulators), so a block's last 4–11 rows do not fall
    /// back to the one-row edge kernel (latency-bound). Same FMA order as the 12-row kernel: same bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro4x32(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0, c1, c2, c3, d0, d1, d2, d3;
        long ld = ldc;
        if (accumulate)
        {
            c0 = Avx512F.LoadVector512(c); d0 = Avx512F.LoadVector512(c + NR);
            c1 = Avx512F.LoadVector512(c + ld); d1 = Avx512F.LoadVector512(c + ld + NR);
            c2 = Avx512F.LoadVector512(c + 2 * ld); d2 = Avx512F.LoadVector512(c + 2 * ld + NR);
            c3 = Avx512F.LoadVector512(c + 3 * ld); d3 = Avx512F.LoadVector512(c + 3 * ld + NR);
        }
        else
        {
            c0 = c1 = c2 = c3 = d0 = d1 = d2 = d3 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        float* b2 = b + (long)kc * NR;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx512F.LoadVector512(b + p * NR);
            var bw = Avx512F.LoadVector512(b2 + p * NR);
            var x = Vector512.Create(a0[p]); c0 = Avx512F.FusedMultiplyAdd(x, bv, c0); d0 = Avx512F.FusedMultiplyAdd(x, bw, d0);
            x = Vector512.Create(a1[p]); c1 = Avx512F.FusedMultiplyAdd(x, bv, c1); d1 = Avx512F.FusedMultiplyAdd(x, bw, d1);
            x = Vector512.Create(a2[p]); c2 = Avx512F.FusedMultiplyAdd(x, bv, c2); d2 = Avx512F.FusedMultiplyAdd(x, bw, d2);
            x = Vector512.Create(a3[p]); c3 = Avx512F.FusedMultiplyAdd(x, bv, c3); d3 = Avx512F.FusedMultiplyAdd(x, bw, d3);
        }
        Avx512F.Store(c, c0); Avx512F.Store(c + NR, d0);
        Avx512F.Store(c + ld, c1); Avx512F.Store(c + ld + NR, d1);
        Avx512F.Store(c + 2 * ld, c2); Avx512F.Store(c + 2 * ld + NR, d2);
        Avx512F.Store(c + 3 * ld, c3); Avx512F.Store(c + 3 * ld + NR, d3);
    }

    /// <summary>AVX-512 tail for a single panel: 4 rows × 16 columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Micro4x16(int kc, float* a, int lda, float* b, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0, c1, c2, c3;
        long ld = ldc;
        if (accumulate)
        {
            c0 = Avx512F.LoadVector512(c); c1 = Avx512F.LoadVector512(c + ld);
            c2 = Avx512F.LoadVector512(c + 2 * ld); c3 = Avx512F.LoadVector512(c + 3 * ld);
        }
        else
        {
            c0 = c1 = c2 = c3 = Vector512<float>.Zero;
        }
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = 0; p < kc; p++)
        {
            var bv = Avx512F.LoadVector512(b + p * NR);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[p]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[p]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[p]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[p]), bv, c3);
        }
        Avx512F.Store(c, c0); Avx512F.Store(c + ld, c1);
        Avx512F.Store(c + 2 * ld, c2); Avx512F.Store(c + 3 * ld, c3);
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

/// <summary>Which micro-kernel family a GEMM runs (tests force each one; production takes <see cref="GemmKernel.BestPath"/>).</summary>
internal enum GemmPath { Scalar, Avx2, Avx512 }

/// <summary>How a GEMM of M rows and some 16-column panels is cut into parallel tiles.</summary>
internal readonly record struct GemmTiling(int RowBlock, int RowBlocks, int PanelChunk, int PanelChunks)
{
    public int Count => RowBlocks * PanelChunks;

    public static GemmTiling Plan(int m, int panels, int threads)
    {
        const int rowBlock = 96;
        int rowBlocks = Math.Max(1, (m + rowBlock - 1) / rowBlock);
        // Enough tiles that the last wave leaves few threads idle (row blocks alone are too few for batch ~1024).
        int wanted = threads <= 1 ? 1 : 8 * threads;
        int chunks = rowBlocks >= wanted ? 1 : Math.Min(Math.Max(1, panels), (wanted + rowBlocks - 1) / rowBlocks);
        int chunk = Math.Max(1, (panels + chunks - 1) / chunks);
        chunks = Math.Max(1, (panels + chunk - 1) / chunk);
        return new GemmTiling(rowBlock, rowBlocks, chunk, chunks);
    }
}
