using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>
/// The SIMD CPU gather/scatter copy and add runs of consecutive columns as blocks: the bytes must be the element
/// loop's (a float add per contribution, in column order), with SIMD on or off and with any thread count.
/// </summary>
public sealed class CpuColumnRunsTests
{
    [Fact]
    public void Runs_give_the_element_loops_bits_with_SIMD_on_or_off()
    {
        int[] index = BackendOpTests.RunIndex;
        const int batch = 300, xColumns = 40;
        int yColumns = index.Length;
        var rng = new Random(5);
        var x = Enumerable.Range(0, batch * xColumns).Select(_ => (float)(rng.NextDouble() * 2 - 1) / 3f).ToArray();
        var g = Enumerable.Range(0, batch * yColumns).Select(_ => (float)(rng.NextDouble() * 2 - 1) / 7f).ToArray();
        var gathered = new float[batch * yColumns];
        var scattered = new float[batch * xColumns];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < yColumns; j++)
            {
                gathered[b * yColumns + j] = x[b * xColumns + index[j]];
                scattered[b * xColumns + index[j]] += g[b * yColumns + j];
            }
        foreach (var backend in new[] { new CpuBackend(2), new CpuBackend(1, allowSimd: false) })
            using (backend)
            {
                using var ib = backend.Allocate<int>(index.Length);
                using var xb = backend.Allocate<float>(x.Length);
                using var gb = backend.Allocate<float>(g.Length);
                using var yb = backend.Allocate<float>(gathered.Length);
                using var sb = backend.Allocate<float>(scattered.Length);
                backend.Upload<int>(index, ib);
                backend.Upload<float>(x, xb);
                backend.Upload<float>(g, gb);
                backend.GatherColumns(batch, xb, xColumns, ib, yb, yColumns);
                backend.ScatterColumns(batch, gb, yColumns, ib, sb, xColumns);
                var y = new float[gathered.Length];
                var sc = new float[scattered.Length];
                backend.Download(yb, y);
                backend.Download(sb, sc);
                Assert.Equal(gathered, y);
                Assert.Equal(scattered.Select(BitConverter.SingleToInt32Bits), sc.Select(BitConverter.SingleToInt32Bits));
            }
    }
}
