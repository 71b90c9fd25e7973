using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

// Batched products of small matrices (attention: QKᵀ and AV per head and sample, and their adjoints); the ILGPU side is
// Ilgpu/Ops/BatchedGemm.cs. Every C[i, j] is Σ_p op(A)[i, p]·op(B)[p, j] added in ascending p, one product rounded
// before each add, on both the vector and the scalar path: the same bits with SIMD on or off.
public sealed partial class CpuBackend
{
    public void BatchedGemm(int count, int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c)
    {
        const string op = "BatchedGemm";
        if (count < 0 || m < 0 || n < 0 || k < 0) throw new ShapeException($"{op}: negative size count={count} M={m} N={n} K={k}");
        ShapeException.RequireShape(op, "a", a, count, m, k);
        ShapeException.RequireShape(op, "b", b, count, k, n);
        ShapeException.RequireShape(op, "c", c, count, m, n);
        var aa = Own(a, op, "a").Array;
        var ba = Own(b, op, "b").Array;
        var ca = Own(c, op, "c").Array;
        if (count == 0 || m == 0 || n == 0) return;
        long work = Math.Max(1L, (long)m * n * Math.Max(k, 1));
        bool simd = Simd;
        ParallelRange(count, (start, end) =>
        {
            float[]? rowsOfB = transposeB ? new float[(long)k * n] : null;
            float[]? tailOfB = simd && Vector256.IsHardwareAccelerated && n % 8 != 0 ? new float[(long)k * 8] : null;
            for (int item = start; item < end; item++)
                MultiplyItem(simd, m, n, k, aa.AsSpan((int)((long)item * m * k), m * k), transposeA,
                    ba.AsSpan((int)((long)item * k * n), k * n), transposeB, ca.AsSpan((int)((long)item * m * n), m * n), rowsOfB, tailOfB);
        }, grain: (int)Math.Clamp(32768 / work, 1, 1 << 15));
    }

    /// <summary>
    /// One item: C = op(A)·op(B), Bᵀ first copied to <paramref name="rowsOfB"/> when B is transposed. Each 8-column block
    /// of a row of C is summed in a register over ascending p; the last n mod 8 columns (all of them for attention's 6×6
    /// scores) the same way from <paramref name="tailOfB"/>, a zero-padded k × 8 copy of them, or, on the scalar path,
    /// one column at a time in the same order.
    /// </summary>
    static unsafe void MultiplyItem(bool simd, int m, int n, int k, ReadOnlySpan<float> a, bool transposeA, ReadOnlySpan<float> b, bool transposeB,
        Span<float> c, float[]? rowsOfB, float[]? tailOfB)
    {
        if (transposeB)
        {
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++) rowsOfB![p * n + j] = b[j * k + p];
            b = rowsOfB;
        }
        int aRow = transposeA ? 1 : k, aStep = transposeA ? m : 1;
        bool vector = simd && Vector256.IsHardwareAccelerated;
        int tail0 = n - n % 8, tailWidth = n - tail0;
        if (vector && tailWidth > 0)
            for (int p = 0; p < k; p++) b.Slice(p * n + tail0, tailWidth).CopyTo(tailOfB.AsSpan(p * 8, tailWidth)); // lanes ≥ width stay 0
        float* lanes = stackalloc float[8];
        fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c) fixed (float* tp = tailOfB)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = ap + i * aRow;
                float* ci = cp + i * n;
                int j = 0;
                if (vector)
                    for (; j + 8 <= n; j += 8)
                    {
                        var acc = Vector256<float>.Zero;
                        for (int p = 0; p < k; p++) acc += Vector256.Create(ai[p * aStep]) * Vector256.Load(bp + p * n + j);
                        acc.Store(ci + j);
                    }
                if (vector && tailWidth > 0)
                {
                    var acc = Vector256<float>.Zero;
                    for (int p = 0; p < k; p++) acc += Vector256.Create(ai[p * aStep]) * Vector256.Load(tp + p * 8);
                    acc.Store(lanes);
                    for (int t = 0; t < tailWidth; t++) ci[tail0 + t] = lanes[t];
                    continue;
                }
                for (; j < n; j++)
                {
                    float sum = 0f;
                    for (int p = 0; p < k; p++) sum += ai[p * aStep] * bp[p * n + j];
                    ci[j] = sum;
                }
            }
        }
    }
}
