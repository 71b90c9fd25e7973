using Kiago.Kernels.Ilgpu.Ops;

namespace Kiago.Kernels.Ilgpu;

// IBackend's ops: checks here, kernels in Ops/.
public sealed partial class IlgpuBackend
{
    public Composition.ICompositionKernel CreateCompositionKernel(Composition.CompositionSpec spec) =>
        new Composition.CompositionKernelIlgpu(this, spec);

    public IConv2d PrepareConv2d(Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new IlgpuConv2d(this, spec, weight, bias);

    public ILinear PrepareLinear(LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new IlgpuLinear(this, spec, weight, bias);

    public void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c, float alpha = 1f, float beta = 0f)
    {
        const string op = "Gemm";
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"{op}: negative shape M={m} N={n} K={k}");
        var av = View(a, op, "a", (long)m * k);
        var bv = View(b, op, "b", (long)k * n);
        var cv = View(c, op, "c", (long)m * n);
        Count(op, (long)m * k);
        Count(op, (long)k * n);
        Count(op, (long)m * n);
        GemmKernels.Run(Ops.IlgpuGemm.Shape(m, n, k, transposeA, transposeB, alpha, beta), av, bv, cv, cv);
    }

    public void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count) =>
        Elementwise.Relu(View(x, "Relu", "x", count), View(y, "Relu", "y", count), Count("Relu", count));

    public void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        const string op = "ReluBackward";
        Elementwise.ReluBackward(View(y, op, "y", count), View(dy, op, "dy", count), View(dx, op, "dx", count), Count(op, count));
    }

    public void Sigmoid(DeviceBuffer<float> x, DeviceBuffer<float> y, long count) =>
        Elementwise.Sigmoid(View(x, "Sigmoid", "x", count), View(y, "Sigmoid", "y", count), Count("Sigmoid", count));

    public void SigmoidBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        const string op = "SigmoidBackward";
        Elementwise.SigmoidBackward(View(y, op, "y", count), View(dy, op, "dy", count), View(dx, op, "dx", count), Count(op, count));
    }

    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count)
    {
        const string op = "Multiply";
        Elementwise.Multiply(View(a, op, "a", count), View(b, op, "b", count), View(y, op, "y", count), Count(op, count));
    }

    public void RowOp(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        string op = spec.Kind.ToString();
        Count(op, spec.Count);
        RowOps.Run(spec, View(x, op, "x", spec.Count), View(y, op, "y", spec.OutCount), Count(op, spec.Rows));
    }

    public void RowOpBackward(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        string op = spec.Kind + "Backward";
        Count(op, spec.Count);
        RowOps.Backward(spec, View(x, op, "x", spec.Count), View(y, op, "y", spec.OutCount), View(dy, op, "dy", spec.OutCount),
            View(dx, op, "dx", spec.Count), Count(op, spec.Rows));
    }

    public void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y)
    {
        const string op = "LayerNorm";
        Count(op, spec.Count);
        LayerNorms.Run(View(x, op, "x", spec.Count), View(gamma, op, "gamma", spec.Width), View(beta, op, "beta", spec.Width),
            View(y, op, "y", spec.Count), Count(op, spec.Rows), spec.Width, spec.Epsilon);
    }

    public void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "LayerNormBackward";
        Count(op, spec.Count);
        LayerNorms.Backward(View(x, op, "x", spec.Count), View(gamma, op, "gamma", spec.Width), View(dy, op, "dy", spec.Count),
            View(dx, op, "dx", spec.Count), Count(op, spec.Rows), spec.Width, spec.Epsilon);
    }

    public void Unary(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        string op = "Unary " + spec.Kind;
        Elementwise.Unary(spec, View(x, op, "x", count), View(y, op, "y", count), Count(op, count));
    }

    public void UnaryBackward(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        string op = "UnaryBackward " + spec.Kind;
        Elementwise.UnaryBackward(spec, View(x, op, "x", count), View(y, op, "y", count), View(dy, op, "dy", count), View(dx, op, "dx", count), Count(op, count));
    }

    public void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count) =>
        Elementwise.Add(View(a, "Add", "a", count), View(b, "Add", "b", count), View(y, "Add", "y", count), Count("Add", count));

    public void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count) =>
        Elementwise.Axpy(alpha, View(x, "Axpy", "x", count), View(y, "Axpy", "y", count), Count("Axpy", count));

    public void Scale(DeviceBuffer<float> x, float alpha, long count) =>
        Elementwise.Scale(View(x, "Scale", "x", count), alpha, Count("Scale", count));

    public void MaxPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax) =>
        Pools.MaxPool(spec, batch, x, y, argmax);

    public void MaxPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx) =>
        Pools.MaxPoolBackward(spec, batch, dy, argmax, dx);

    public void AvgPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) =>
        Pools.AvgPool(spec, batch, x, y);

    public void AvgPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        Pools.AvgPoolBackward(spec, batch, dy, dx);

    public void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        RequirePositiveSpatial("GlobalAvgPool", spatial);
        Columns.RowSum("GlobalAvgPool", Rows("GlobalAvgPool", batch, channels), spatial, x, y, 1f / spatial);
    }

    public void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        RequirePositiveSpatial("GlobalAvgPoolBackward", spatial);
        Columns.RowBroadcast("GlobalAvgPoolBackward", Rows("GlobalAvgPoolBackward", batch, channels), spatial, dy, dx, 1f / spatial);
    }

    public void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) =>
        Columns.Gather(batch, x, xColumns, index, y, yColumns);

    public void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) =>
        Columns.Scatter(batch, x, xColumns, index, y, yColumns);

    public void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y) =>
        Columns.RowSum("RowSum", batch, columns, x, y, 1f);

    public void AddRowToEach(int batch, int columns, DeviceBuffer<float> a, DeviceBuffer<float> row, DeviceBuffer<float> y) =>
        Columns.AddRowToEach(batch, columns, a, row, y);

    public void BatchedGemm(int count, int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c) => Batched.Run(count, m, n, k, a, transposeA, b, transposeB, c);

    public void GatherRows(int rows, DeviceBuffer<float> index, DeviceBuffer<float> table, int vocabulary, int width, DeviceBuffer<float> y) =>
        Tokens.GatherRows(rows, index, table, vocabulary, width, y);

    public void SelectTokens(int batch, int columns, DeviceBuffer<float> x, int tokens, DeviceBuffer<float> y, DeviceBuffer<int> picked) =>
        Tokens.Select(batch, columns, x, tokens, y, picked);

    public void ScatterTokens(int batch, int columns, int tokens, DeviceBuffer<int> picked, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        Tokens.Scatter(batch, columns, tokens, picked, dy, dx);

    public void ColumnSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y) =>
        Columns.ColumnSum(batch, columns, x, y);

    public void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count) =>
        AdamKernels.Update(spec, step, parameter, gradient, firstMoment, secondMoment, count);

    static void RequirePositiveSpatial(string op, int spatial)
    {
        if (spatial <= 0) throw new ShapeException($"{op}: spatial size {spatial} must be positive");
    }

    static int Rows(string op, int batch, int channels)
    {
        if (batch < 0 || channels < 0) throw new ShapeException($"{op}: negative shape [{batch}, {channels}]");
        return Count(op, (long)batch * channels);
    }
}
