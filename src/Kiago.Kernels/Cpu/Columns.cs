using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

// Row reductions, column gather/scatter and a row broadcast over the batch (GlobalAvgPool, RowSum, Gather/ScatterColumns,
// AddRowToEach and its adjoint ColumnSum); the ILGPU side is Ilgpu/Ops/Columns.cs.
public sealed partial class CpuBackend
{
    public void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "GlobalAvgPool";
        ShapeException.RequireShape(op, "x", x, batch, channels, spatial);
        ShapeException.RequireShape(op, "y", y, batch, channels);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        float inv = 1f / spatial;
        ParallelRange((long)batch * channels, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                float sum = 0f;
                int o = r * spatial;
                for (int j = 0; j < spatial; j++) sum += xa[o + j];
                ya[r] = sum * inv;
            }
        }, grain: 4096);
    }

    public void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "GlobalAvgPoolBackward";
        ShapeException.RequireShape(op, "dy", dy, batch, channels);
        ShapeException.RequireShape(op, "dx", dx, batch, channels, spatial);
        var dya = Own(dy, op, "dy").Array;
        var dxa = Own(dx, op, "dx").Array;
        float inv = 1f / spatial;
        ParallelRange((long)batch * channels, (s, e) =>
        {
            for (int r = s; r < e; r++) dxa.AsSpan(r * spatial, spatial).Fill(dya[r] * inv);
        }, grain: 4096);
    }

    public void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "GatherColumns";
        ShapeException.RequireShape(op, "x", x, batch, xColumns);
        ShapeException.RequireShape(op, "index", index, yColumns);
        ShapeException.RequireShape(op, "y", y, batch, yColumns);
        var xa = Own(x, op, "x").Array;
        var ia = Own(index, op, "index").Array;
        var ya = Own(y, op, "y").Array;
        CheckIndex(op, ia, yColumns, xColumns);
        // rows are independent: any split of the batch gives the same bytes; runs of consecutive source columns
        // (slices, head splits) are block copies
        var runs = IndexRuns(ia, yColumns);
        ParallelRange(batch, (s, e) =>
        {
            for (int b = s; b < e; b++)
            {
                int xo = b * xColumns, yo = b * yColumns;
                if (runs is null)
                    for (int j = 0; j < yColumns; j++) ya[yo + j] = xa[xo + ia[j]];
                else
                    foreach (var (j, column, length) in runs) xa.AsSpan(xo + column, length).CopyTo(ya.AsSpan(yo + j, length));
            }
        }, grain: Math.Max(1, (1 << 15) / Math.Max(1, yColumns)));
    }

    public void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "ScatterColumns";
        ShapeException.RequireShape(op, "x", x, batch, xColumns);
        ShapeException.RequireShape(op, "index", index, xColumns);
        ShapeException.RequireShape(op, "y", y, batch, yColumns);
        var xa = Own(x, op, "x").Array;
        var ia = Own(index, op, "index").Array;
        var ya = Own(y, op, "y").Array;
        CheckIndex(op, ia, xColumns, yColumns);
        // each row is cleared and filled by one thread, adding its repeats in column order; a run of consecutive
        // target columns has distinct targets, so adding it as a block keeps every target's order of additions
        var runs = IndexRuns(ia, xColumns);
        bool simd = Simd;
        ParallelRange(batch, (s, e) =>
        {
            for (int b = s; b < e; b++)
            {
                int xo = b * xColumns, yo = b * yColumns;
                ya.AsSpan(yo, yColumns).Clear();
                if (runs is null)
                    for (int j = 0; j < xColumns; j++) ya[yo + ia[j]] += xa[xo + j];
                else
                    foreach (var (j, column, length) in runs) AddInto(simd, xa.AsSpan(xo + j, length), ya.AsSpan(yo + column, length));
            }
        }, grain: Math.Max(1, (1 << 15) / Math.Max(1, Math.Max(xColumns, yColumns))));
    }

    /// <summary>
    /// The index as runs (position j, column, length) of consecutive columns, or null when the runs are too short to
    /// beat the element loop (average below 4).
    /// </summary>
    static List<(int J, int Column, int Length)>? IndexRuns(int[] index, int count)
    {
        var runs = new List<(int, int, int)>();
        for (int j = 0; j < count;)
        {
            int length = 1;
            while (j + length < count && index[j + length] == index[j] + length) length++;
            runs.Add((j, index[j], length));
            j += length;
        }
        return runs.Count * 4 <= count ? runs : null;
    }

    /// <summary>y[i] += x[i], element by element (the scalar loop's bits).</summary>
    static void AddInto(bool simd, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (simd)
            for (; i + 8 <= x.Length; i += 8)
                (Vector256.Create(y.Slice(i, 8)) + Vector256.Create(x.Slice(i, 8))).CopyTo(y.Slice(i, 8));
        for (; i < x.Length; i++) y[i] += x[i];
    }

    static void CheckIndex(string op, int[] index, int count, int bound)
    {
        for (int j = 0; j < count; j++)
            if ((uint)index[j] >= (uint)bound)
                throw new ShapeException($"{op}: index[{j}] = {index[j]} is outside [0, {bound})");
    }

    public void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "RowSum";
        ShapeException.RequireShape(op, "x", x, batch, columns);
        ShapeException.RequireShape(op, "y", y, batch);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        for (int b = 0; b < batch; b++)
        {
            float sum = 0f;
            int o = b * columns;
            for (int j = 0; j < columns; j++) sum += xa[o + j];
            ya[b] = sum;
        }
    }

    public void AddRowToEach(int batch, int columns, DeviceBuffer<float> a, DeviceBuffer<float> row, DeviceBuffer<float> y)
    {
        const string op = "AddRowToEach";
        ShapeException.RequireShape(op, "a", a, batch, columns);
        ShapeException.RequireShape(op, "row", row, columns);
        ShapeException.RequireShape(op, "y", y, batch, columns);
        var aa = Own(a, op, "a").Array;
        var ra = Own(row, op, "row").Array;
        var ya = Own(y, op, "y").Array;
        ParallelRange(batch, (s, e) =>
        {
            for (int b = s; b < e; b++)
            {
                int o = b * columns, j = 0;
                if (Simd)
                    for (; j + 8 <= columns; j += 8)
                        (Vector256.Create(aa, o + j) + Vector256.Create(ra, j)).CopyTo(ya, o + j);
                for (; j < columns; j++) ya[o + j] = aa[o + j] + ra[j];
            }
        }, grain: Math.Max(1, (1 << 14) / Math.Max(1, columns)));
    }

    public void ColumnSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "ColumnSum";
        ShapeException.RequireShape(op, "x", x, batch, columns);
        ShapeException.RequireShape(op, "y", y, columns);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        // blocks of 8 columns, each lane summing its column down the rows: the scalar order, whatever the threads
        ParallelRange((columns + 7) / 8, (s, e) =>
        {
            for (int block = s; block < e; block++)
            {
                int j0 = block * 8, width = Math.Min(8, columns - j0);
                if (Simd && width == 8)
                {
                    var sum = Vector256<float>.Zero;
                    for (int b = 0; b < batch; b++) sum += Vector256.Create(xa, b * columns + j0);
                    sum.CopyTo(ya, j0);
                    continue;
                }
                for (int j = j0; j < j0 + width; j++)
                {
                    float sum = 0f;
                    for (int b = 0; b < batch; b++) sum += xa[b * columns + j];
                    ya[j] = sum;
                }
            }
        }, grain: Math.Max(1, (1 << 12) / Math.Max(1, batch)));
    }
}
