using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// Out-of-place matrix transposes between NCHW planes and the channels-last rows the convolution GEMM works on,
/// in 8×8 AVX register tiles (a strided scalar loop was several ns per element). Pure copies: every path gives
/// the same bytes.
/// </summary>
internal static unsafe class Transpose
{
    /// <summary>dst[j·dstStride + i] = src[i·srcStride + j] for i &lt; rows, j &lt; cols.</summary>
    /// <remarks>Fully optimised from the first call, as the GEMM micro-kernels: tier-0 code of these short copy loops
    /// ran ~8× slower, and a benchmark or a short run never leaves it.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* src, long srcStride, float* dst, long dstStride, int rows, int cols)
    {
        int i0 = 0;
        if (Avx.IsSupported)
            for (; i0 + 8 <= rows; i0 += 8)
            {
                int j0 = 0;
                for (; j0 + 8 <= cols; j0 += 8)
                    Tile8x8(src + i0 * srcStride + j0, srcStride, dst + j0 * dstStride + i0, dstStride);
                for (; j0 < cols; j0++)
                    for (int i = i0; i < i0 + 8; i++) dst[j0 * dstStride + i] = src[i * srcStride + j0];
            }
        // Remaining rows (fewer than 8, e.g. 4 input channels): column-major order keeps the writes contiguous.
        if (i0 < rows)
            for (int j = 0; j < cols; j++)
                for (int i = i0; i < rows; i++) dst[j * dstStride + i] = src[i * srcStride + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Tile8x8(float* s, long ss, float* d, long ds)
    {
        var r0 = Avx.LoadVector256(s);
        var r1 = Avx.LoadVector256(s + ss);
        var r2 = Avx.LoadVector256(s + 2 * ss);
        var r3 = Avx.LoadVector256(s + 3 * ss);
        var r4 = Avx.LoadVector256(s + 4 * ss);
        var r5 = Avx.LoadVector256(s + 5 * ss);
        var r6 = Avx.LoadVector256(s + 6 * ss);
        var r7 = Avx.LoadVector256(s + 7 * ss);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(d + ds, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(d + 2 * ds, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(d + 3 * ds, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(d + 4 * ds, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(d + 5 * ds, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(d + 6 * ds, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(d + 7 * ds, Avx.Permute2x128(u3, u7, 0x31));
    }
}
