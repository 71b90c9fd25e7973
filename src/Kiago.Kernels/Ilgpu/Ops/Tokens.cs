using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// Element tokens (<see cref="TokenRule"/>, written out with views here): token selection with one thread per row,
/// its adjoint with one thread per row (zeroing its row first), and the embedding lookup with one thread per value.
/// </summary>
sealed class IlgpuTokens(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>? gatherRows;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int, int>? select;
    Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int>? scatter;

    public void GatherRows(int rows, DeviceBuffer<float> index, DeviceBuffer<float> table, int vocabulary, int width, DeviceBuffer<float> y)
    {
        const string op = "GatherRows";
        if (rows < 0 || vocabulary < 0 || width < 0) throw new ShapeException($"{op}: negative size rows={rows} vocabulary={vocabulary} width={width}");
        var iv = backend.View(index, op, "index", rows);
        var tv = backend.View(table, op, "table", (long)vocabulary * width);
        var yv = backend.View(y, op, "y", (long)rows * width);
        int count = IlgpuBackend.Count(op, (long)rows * width);
        if (count == 0) return;
        gatherRows ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int>>(GatherRowsKernel);
        int grid = backend.GridSize(count);
        gatherRows(backend.Stream, grid, iv, tv, yv, vocabulary, width, count, grid);
    }

    public void Select(int batch, int columns, DeviceBuffer<float> x, int tokens, DeviceBuffer<float> y, DeviceBuffer<int> picked)
    {
        const string op = "SelectTokens";
        TokenRule.RequireSizes(op, batch, columns, tokens);
        var xv = backend.View(x, op, "x", (long)batch * columns);
        var yv = backend.View(y, op, "y", (long)batch * 2 * tokens);
        var pv = backend.View(picked, op, "picked", (long)batch * tokens);
        IlgpuBackend.Count(op, (long)batch * columns);
        if (batch == 0) return;
        select ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int, int, int>>(SelectKernel);
        int grid = backend.GridSize(batch);
        select(backend.Stream, grid, xv, yv, pv, columns, tokens, batch, grid);
    }

    public void Scatter(int batch, int columns, int tokens, DeviceBuffer<int> picked, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "ScatterTokens";
        TokenRule.RequireSizes(op, batch, columns, tokens);
        var pv = backend.View(picked, op, "picked", (long)batch * tokens);
        var dyv = backend.View(dy, op, "dy", (long)batch * 2 * tokens);
        var dxv = backend.View(dx, op, "dx", (long)batch * columns);
        IlgpuBackend.Count(op, (long)batch * columns);
        if (batch == 0) return;
        scatter ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<int>, ArrayView<float>, ArrayView<float>, int, int, int, int>>(ScatterKernel);
        int grid = backend.GridSize(batch);
        scatter(backend.Stream, grid, pv, dyv, dxv, columns, tokens, batch, grid);
    }

    [IlgpuKernel]
    internal static void GatherRowsKernel(Index1D index, ArrayView<float> rowIndex, ArrayView<float> table, ArrayView<float> y, int vocabulary, int width, int count, int stride)
    {
        for (int e = index; e < count; e += stride)
        {
            int r = e / width, j = e - r * width;
            float shifted = rowIndex[r] + 0.5f; // TokenRule.Row
            y[e] = shifted >= 0f && shifted < vocabulary ? table[(int)shifted * width + j] : float.NaN;
        }
    }

    [IlgpuKernel]
    internal static void SelectKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<int> picked, int columns, int tokens, int rows, int stride)
    {
        for (int b = index; b < rows; b += stride)
        {
            int xo = b * columns, yo = b * 2 * tokens, po = b * tokens;
            int positives = 0;
            for (int c = 0; c < columns; c++) if (x[xo + c] > 0f) positives++;
            int slot = 0;
            for (int c = 0; c < columns && slot < tokens; c++)
            {
                float v = x[xo + c];
                if (!(v > 0f)) continue;
                if (positives > tokens)
                {
                    // TokenRule.Kept: fewer than `tokens` entries rank above this one
                    int above = 0;
                    for (int j = 0; j < columns && above < tokens; j++)
                    {
                        float w = x[xo + j];
                        if (w > v || (w == v && j < c)) above++;
                    }
                    if (above >= tokens) continue;
                }
                y[yo + slot] = c + 1;
                y[yo + tokens + slot] = v;
                picked[po + slot] = c;
                slot++;
            }
            for (; slot < tokens; slot++)
            {
                y[yo + slot] = 0f;
                y[yo + tokens + slot] = 0f;
                picked[po + slot] = -1;
            }
        }
    }

    [IlgpuKernel]
    internal static void ScatterKernel(Index1D index, ArrayView<int> picked, ArrayView<float> dy, ArrayView<float> dx, int columns, int tokens, int rows, int stride)
    {
        for (int b = index; b < rows; b += stride)
        {
            int xo = b * columns;
            for (int c = 0; c < columns; c++) dx[xo + c] = 0f;
            for (int t = 0; t < tokens; t++)
            {
                int column = picked[b * tokens + t];
                if (column >= 0 && column < columns) dx[xo + column] += dy[(b * 2 + 1) * tokens + t];
            }
        }
    }
}
