using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// Batched small products (attention): one thread per element of C, Σ_p op(A)[i, p]·op(B)[p, j] in ascending p, as the
/// CPU backend adds them. The matrices of attention are a few tokens wide, too small for the tiled GEMM to pay.
/// </summary>
sealed class IlgpuBatchedGemm(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int>? kernel;

    public void Run(int count, int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB, DeviceBuffer<float> c)
    {
        const string op = "BatchedGemm";
        if (count < 0 || m < 0 || n < 0 || k < 0) throw new ShapeException($"{op}: negative size count={count} M={m} N={n} K={k}");
        var av = backend.View(a, op, "a", (long)count * m * k);
        var bv = backend.View(b, op, "b", (long)count * k * n);
        var cv = backend.View(c, op, "c", (long)count * m * n);
        int total = IlgpuBackend.Count(op, (long)count * m * n);
        if (total == 0) return;
        kernel ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int, int, int>>(Kernel);
        int grid = backend.GridSize(total);
        kernel(backend.Stream, grid, av, bv, cv, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, total, grid);
    }

    [IlgpuKernel]
    internal static void Kernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int m, int n, int k,
        int transposeA, int transposeB, int total, int stride)
    {
        for (int e = index; e < total; e += stride)
        {
            int item = e / (m * n), rest = e - item * m * n;
            int i = rest / n, j = rest - i * n;
            int aBase = item * m * k, bBase = item * k * n;
            int aStep = transposeA != 0 ? m : 1, aStart = aBase + (transposeA != 0 ? i : i * k);
            int bStep = transposeB != 0 ? 1 : n, bStart = bBase + (transposeB != 0 ? j * k : j);
            float sum = 0f;
            for (int p = 0; p < k; p++) sum += a[aStart + p * aStep] * b[bStart + p * bStep];
            c[e] = sum;
        }
    }
}
