namespace Kiago.Kernels.Cpu;

// Element-token inputs for attention models: the featuriser's token selection and its adjoint, and the embedding-table
// lookup (GatherRows); the ILGPU side is Ilgpu/Ops/Tokens.cs. The selection rule is TokenRule, shared by both.
public sealed partial class CpuBackend
{
    public void GatherRows(int rows, DeviceBuffer<float> index, DeviceBuffer<float> table, int vocabulary, int width, DeviceBuffer<float> y)
    {
        const string op = "GatherRows";
        if (rows < 0 || vocabulary < 0 || width < 0) throw new ShapeException($"{op}: negative size rows={rows} vocabulary={vocabulary} width={width}");
        ShapeException.RequireShape(op, "index", index, rows);
        ShapeException.RequireShape(op, "table", table, vocabulary, width);
        ShapeException.RequireShape(op, "y", y, rows, width);
        var ia = Own(index, op, "index").Array;
        var ta = Own(table, op, "table").Array;
        var ya = Own(y, op, "y").Array;
        ParallelRange(rows, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int row = TokenRule.Row(ia[r], vocabulary);
                var target = ya.AsSpan(r * width, width);
                if (row < 0) target.Fill(float.NaN);
                else ta.AsSpan(row * width, width).CopyTo(target);
            }
        }, grain: Math.Max(1, 16384 / Math.Max(width, 1)));
    }

    public void SelectTokens(int batch, int columns, DeviceBuffer<float> x, int tokens, DeviceBuffer<float> y, DeviceBuffer<int> picked)
    {
        const string op = "SelectTokens";
        TokenRule.RequireSizes(op, batch, columns, tokens);
        ShapeException.RequireShape(op, "x", x, batch, columns);
        ShapeException.RequireShape(op, "y", y, batch, 2, tokens);
        ShapeException.RequireShape(op, "picked", picked, batch, tokens);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        var pa = Own(picked, op, "picked").Array;
        ParallelRange(batch, (start, end) =>
        {
            for (int b = start; b < end; b++)
                TokenRule.Select(xa.AsSpan(b * columns, columns), tokens, ya.AsSpan(b * 2 * tokens, 2 * tokens), pa.AsSpan(b * tokens, tokens));
        }, grain: 256);
    }

    public void ScatterTokens(int batch, int columns, int tokens, DeviceBuffer<int> picked, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "ScatterTokens";
        TokenRule.RequireSizes(op, batch, columns, tokens);
        ShapeException.RequireShape(op, "picked", picked, batch, tokens);
        ShapeException.RequireShape(op, "dy", dy, batch, 2, tokens);
        ShapeException.RequireShape(op, "dx", dx, batch, columns);
        var pa = Own(picked, op, "picked").Array;
        var dya = Own(dy, op, "dy").Array;
        var dxa = Own(dx, op, "dx").Array;
        ParallelRange(batch, (start, end) =>
        {
            for (int b = start; b < end; b++)
            {
                var row = dxa.AsSpan(b * columns, columns);
                row.Clear();
                for (int t = 0; t < tokens; t++)
                {
                    int column = pa[b * tokens + t];
                    if ((uint)column < (uint)columns) row[column] += dya[(b * 2 + 1) * tokens + t];
                }
            }
        }, grain: 256);
    }
}
