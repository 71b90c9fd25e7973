using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// Row-wise ops over [batch, columns] matrices: column gather/scatter (featuriser and its adjoint), row sums and
/// the global average pool (a row mean over H·W), one row added to every row and its adjoint the column sum.
/// Reductions use one thread per row (column) and add in column (row) order, so results are deterministic; scatter
/// zeroes y with a coalesced fill first, then adds row by row.
/// </summary>
sealed class IlgpuColumns(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int>? gather, scatter;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, float, int>? rowSum, rowBroadcast;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>? addRow;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int>? columnSum;

    public void Gather(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "GatherColumns";
        RequireColumns(op, batch, xColumns, yColumns);
        var xv = backend.View(x, op, "x", (long)batch * xColumns);
        var iv = backend.View(index, op, "index", yColumns);
        var yv = backend.View(y, op, "y", (long)batch * yColumns);
        int count = IlgpuBackend.Count(op, (long)batch * yColumns);
        if (count == 0) return;
        gather ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int>>(GatherKernel);
        int grid = backend.GridSize(count);
        gather(backend.Stream, grid, xv, iv, yv, xColumns, yColumns, count, grid);
    }

    public void Scatter(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "ScatterColumns";
        RequireColumns(op, batch, xColumns, yColumns);
        var xv = backend.View(x, op, "x", (long)batch * xColumns);
        var iv = backend.View(index, op, "index", xColumns);
        var yv = backend.View(y, op, "y", (long)batch * yColumns);
        int count = IlgpuBackend.Count(op, (long)batch * yColumns);
        backend.Elementwise.Fill(yv, 0f, count);
        if (batch == 0 || xColumns == 0) return;
        scatter ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, int, int>>(ScatterKernel);
        int grid = backend.GridSize(batch);
        scatter(backend.Stream, grid, xv, iv, yv, xColumns, yColumns, batch, grid);
    }

    public void RowSum(string op, int rows, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y, float scale)
    {
        if (rows < 0 || columns < 0) throw new ShapeException($"{op}: negative shape [{rows}, {columns}]");
        var xv = backend.View(x, op, "x", (long)rows * columns);
        var yv = backend.View(y, op, "y", rows);
        IlgpuBackend.Count(op, (long)rows * columns);
        if (rows == 0) return;
        rowSum ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, float, int>>(RowSumKernel);
        int grid = backend.GridSize(rows);
        rowSum(backend.Stream, grid, xv, yv, rows, columns, scale, grid);
    }

    /// <summary>dx[r, j] = scale·dy[r] (adjoint of a scaled row sum).</summary>
    public void RowBroadcast(string op, int rows, int columns, DeviceBuffer<float> dy, DeviceBuffer<float> dx, float scale)
    {
        if (rows < 0 || columns < 0) throw new ShapeException($"{op}: negative shape [{rows}, {columns}]");
        var dyv = backend.View(dy, op, "dy", rows);
        var dxv = backend.View(dx, op, "dx", (long)rows * columns);
        int count = IlgpuBackend.Count(op, (long)rows * columns);
        if (count == 0) return;
        rowBroadcast ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, float, int>>(RowBroadcastKernel);
        int grid = backend.GridSize(count);
        rowBroadcast(backend.Stream, grid, dyv, dxv, count, columns, scale, grid);
    }

    public void AddRowToEach(int batch, int columns, DeviceBuffer<float> a, DeviceBuffer<float> row, DeviceBuffer<float> y)
    {
        const string op = "AddRowToEach";
        RequireColumns(op, batch, columns, columns);
        var av = backend.View(a, op, "a", (long)batch * columns);
        var rv = backend.View(row, op, "row", columns);
        var yv = backend.View(y, op, "y", (long)batch * columns);
        int count = IlgpuBackend.Count(op, (long)batch * columns);
        if (count == 0) return;
        addRow ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>>(AddRowKernel);
        int grid = backend.GridSize(count);
        addRow(backend.Stream, grid, av, rv, yv, count, columns, grid);
    }

    public void ColumnSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "ColumnSum";
        RequireColumns(op, batch, columns, columns);
        var xv = backend.View(x, op, "x", (long)batch * columns);
        var yv = backend.View(y, op, "y", columns);
        IlgpuBackend.Count(op, (long)batch * columns);
        if (columns == 0) return;
        columnSum ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int>>(ColumnSumKernel);
        int grid = backend.GridSize(columns);
        columnSum(backend.Stream, grid, xv, yv, batch, columns, grid);
    }

    static void RequireColumns(string op, int batch, int xColumns, int yColumns)
    {
        if (batch < 0 || xColumns < 0 || yColumns < 0)
            throw new ShapeException($"{op}: negative shape (batch {batch}, x columns {xColumns}, y columns {yColumns})");
    }

    [IlgpuKernel]
    internal static void GatherKernel(Index1D index, ArrayView<float> x, ArrayView<int> columns, ArrayView<float> y, int xColumns, int yColumns, int count, int stride)
    {
        for (int i = index; i < count; i += stride)
        {
            int row = i / yColumns, j = i - row * yColumns;
            y[i] = x[row * xColumns + columns[j]];
        }
    }

    [IlgpuKernel]
    internal static void ScatterKernel(Index1D index, ArrayView<float> x, ArrayView<int> columns, ArrayView<float> y, int xColumns, int yColumns, int rows, int stride)
    {
        for (int row = index; row < rows; row += stride)
        {
            int xRow = row * xColumns, yRow = row * yColumns;
            for (int j = 0; j < xColumns; j++) y[yRow + columns[j]] += x[xRow + j];
        }
    }

    [IlgpuKernel]
    internal static void RowSumKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int rows, int columns, float scale, int stride)
    {
        for (int row = index; row < rows; row += stride)
        {
            float sum = 0f;
            int start = row * columns;
            for (int j = 0; j < columns; j++) sum += x[start + j];
            y[row] = scale * sum;
        }
    }

    [IlgpuKernel]
    internal static void RowBroadcastKernel(Index1D index, ArrayView<float> dy, ArrayView<float> dx, int count, int columns, float scale, int stride)
    {
        for (int i = index; i < count; i += stride) dx[i] = scale * dy[i / columns];
    }

    [IlgpuKernel]
    internal static void AddRowKernel(Index1D index, ArrayView<float> a, ArrayView<float> row, ArrayView<float> y, int count, int columns, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = a[i] + row[i % columns];
    }

    [IlgpuKernel]
    internal static void ColumnSumKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int rows, int columns, int stride)
    {
        for (int j = index; j < columns; j += stride)
        {
            float sum = 0f;
            for (int row = 0; row < rows; row++) sum += x[row * columns + j];
            y[j] = sum;
        }
    }
}
