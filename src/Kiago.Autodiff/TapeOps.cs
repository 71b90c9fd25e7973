using Kiago.Kernels;

namespace Kiago.Autodiff;

// The differentiable ops. Each runs its forward kernel now and, when its input wants a gradient, records the
// backward (gradient w.r.t. the input only: weights are frozen).
public sealed partial class Tape
{
    /// <summary>y = conv(x) [+ ReLU]; x is [N, C, H, W] matching the prepared spec.</summary>
    public Tensor Conv2d(Tensor x, IConv2d conv, bool fuseRelu = false)
    {
        var s = conv.Spec;
        RequireShape("Conv2d", x, x.Batch, s.InChannels, s.InHeight, s.InWidth);
        int batch = x.Batch;
        return FrozenLayer("Conv2d", x, [batch, s.OutChannels, s.OutHeight, s.OutWidth], fuseRelu,
            (input, output) => conv.Forward(batch, input, output, fuseRelu),
            (dy, dx) => conv.BackwardInput(batch, dy, dx),
            conv is IReluMaskedBackward masked ? (y, dy, dx) => masked.BackwardInputMasked(batch, y, dy, dx) : null);
    }

    /// <summary>y = x·Wᵀ + b [+ ReLU]; x is [N, In] (use Flatten first for maps).</summary>
    public Tensor Linear(Tensor x, ILinear linear, bool fuseRelu = false)
    {
        var s = linear.Spec;
        RequireShape("Linear", x, x.Batch, s.InFeatures);
        int batch = x.Batch;
        return FrozenLayer("Linear", x, [batch, s.OutFeatures], fuseRelu,
            (input, output) => linear.Forward(batch, input, output, fuseRelu),
            (dy, dx) => linear.BackwardInput(batch, dy, dx));
    }

    /// <summary>
    /// A frozen layer with an optional fused ReLU: forward into a new tensor; backward masks dy with the ReLU (when
    /// fused, from the kept output; inside the layer's own backward when it offers that) and pushes the layer's
    /// input gradient to x.
    /// </summary>
    Tensor FrozenLayer(string op, Tensor x, int[] outShape, bool fuseRelu,
        Action<DeviceBuffer<float>, DeviceBuffer<float>> forward,
        Action<DeviceBuffer<float>, DeviceBuffer<float>> backwardInput,
        Action<DeviceBuffer<float>, DeviceBuffer<float>, DeviceBuffer<float>>? maskedBackwardInput = null)
    {
        var y = NewTensor(outShape, x.RequiresGrad);
        forward(x.Buffer, y.Buffer);
        if (y.RequiresGrad)
        {
            if (fuseRelu) y.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                if (fuseRelu && maskedBackwardInput is not null) maskedBackwardInput(y.Buffer, dy, dx);
                else if (fuseRelu)
                {
                    var masked = RentFloat(y.Length);
                    Backend.ReluBackward(y.Buffer, dy, masked, y.Length);
                    backwardInput(masked, dx);
                    ReleaseFloat(masked);
                }
                else backwardInput(dy, dx);
                PushOwned(x, dx);
            });
        }
        AfterOp(op, x);
        return y;
    }

    /// <summary>y = σ(x); the backward reads the kept output: dx = dy · y · (1 − y).</summary>
    public Tensor Sigmoid(Tensor x) => ElementwiseFromOutput("Sigmoid", x, Backend.Sigmoid, Backend.SigmoidBackward);

    /// <summary>y = f(x) for a <see cref="UnaryKind"/>; the backward reads the kept input and output: dx = dy · f′(x).</summary>
    public Tensor Unary(Tensor x, UnarySpec spec)
    {
        var y = NewTensor((int[])x.Shape.Clone(), x.RequiresGrad);
        Backend.Unary(spec, x.Buffer, y.Buffer, x.Length);
        if (y.RequiresGrad)
        {
            x.Storage.KeepForBackward = true;
            y.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.UnaryBackward(spec, x.Buffer, y.Buffer, dy, dx, x.Length);
                PushOwned(x, dx);
            });
        }
        AfterOp("Unary " + spec.Kind, x);
        return y;
    }

    /// <summary>y = max(x, 0); the backward reads the kept output: dx = dy where y &gt; 0.</summary>
    public Tensor Relu(Tensor x) => ElementwiseFromOutput("Relu", x, Backend.Relu, Backend.ReluBackward);

    /// <summary>An element-wise op whose input gradient is a function of its output y and dy (ReLU, Sigmoid).</summary>
    Tensor ElementwiseFromOutput(string op, Tensor x, Action<DeviceBuffer<float>, DeviceBuffer<float>, long> forward,
        Action<DeviceBuffer<float>, DeviceBuffer<float>, DeviceBuffer<float>, long> backward)
    {
        var y = NewTensor((int[])x.Shape.Clone(), x.RequiresGrad);
        forward(x.Buffer, y.Buffer, x.Length);
        if (y.RequiresGrad)
        {
            y.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                backward(y.Buffer, dy, dx, x.Length);
                PushOwned(x, dx);
            });
        }
        AfterOp(op, x);
        return y;
    }

    public Tensor MaxPool2d(Tensor x, Pool2dSpec spec)
    {
        RequireShape("MaxPool2d", x, x.Batch, spec.Channels, spec.InHeight, spec.InWidth);
        int batch = x.Batch;
        var y = NewTensor([batch, spec.Channels, spec.OutHeight, spec.OutWidth], x.RequiresGrad);
        var argmax = RentInt(y.Length);
        Backend.MaxPool2d(spec, batch, x.Buffer, y.Buffer, argmax);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.MaxPool2dBackward(spec, batch, dy, argmax, dx);
                PushOwned(x, dx);
            });
        AfterOp("MaxPool2d", x);
        return y;
    }

    public Tensor AvgPool2d(Tensor x, Pool2dSpec spec)
    {
        RequireShape("AvgPool2d", x, x.Batch, spec.Channels, spec.InHeight, spec.InWidth);
        int batch = x.Batch;
        var y = NewTensor([batch, spec.Channels, spec.OutHeight, spec.OutWidth], x.RequiresGrad);
        Backend.AvgPool2d(spec, batch, x.Buffer, y.Buffer);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.AvgPool2dBackward(spec, batch, dy, dx);
                PushOwned(x, dx);
            });
        AfterOp("AvgPool2d", x);
        return y;
    }

    /// <summary>[N, C, H, W] (or [N, C, S]) → [N, C] mean over the spatial dimensions.</summary>
    public Tensor GlobalAvgPool(Tensor x)
    {
        if (x.Shape.Length < 3)
            throw new ShapeException($"GlobalAvgPool: input has shape {x.ShapeText}, expected [N, C, H, W]");
        int batch = x.Batch, channels = x.Shape[1], spatial = (int)(x.Length / ((long)batch * channels));
        var y = NewTensor([batch, channels], x.RequiresGrad);
        Backend.GlobalAvgPool(batch, channels, spatial, x.Buffer, y.Buffer);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.GlobalAvgPoolBackward(batch, channels, spatial, dy, dx);
                PushOwned(x, dx);
            });
        AfterOp("GlobalAvgPool", x);
        return y;
    }

    /// <summary>y = a + b (same shape): residual connections. The gradient reaches both.</summary>
    public Tensor Add(Tensor a, Tensor b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new ShapeException($"Add: shapes {a.ShapeText} and {b.ShapeText} differ");
        var y = NewTensor((int[])a.Shape.Clone(), a.RequiresGrad || b.RequiresGrad);
        Backend.Add(a.Buffer, b.Buffer, y.Buffer, a.Length);
        if (y.RequiresGrad)
            Record(y, _ =>
            {
                PushThrough(a, y);
                PushThrough(b, y);
            });
        AfterOp("Add", a, b);
        return y;
    }

    /// <summary>
    /// y = a + row, the one-row tensor <paramref name="row"/> [1, ...] added to every row of <paramref name="a"/> [N, ...]
    /// (a value shared by the whole batch meeting a per-sample one). da = dy; d row = the column sums of dy.
    /// </summary>
    public Tensor AddRow(Tensor a, Tensor row)
    {
        RequireOneRowOf("AddRow", a, row);
        var y = NewTensor((int[])a.Shape.Clone(), a.RequiresGrad || row.RequiresGrad);
        Backend.AddRowToEach(a.Batch, a.RowLength, a.Buffer, row.Buffer, y.Buffer);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                PushThrough(a, y);
                PushColumnSums(row, dy, a.Batch);
            });
        AfterOp("AddRow", a, row);
        return y;
    }

    /// <summary>[1, ...] → [<paramref name="batch"/>, ...], every row a copy of <paramref name="row"/>; its gradient is the column sums of dy.</summary>
    public Tensor RepeatRow(Tensor row, int batch)
    {
        if (row.Batch != 1) throw new ShapeException($"RepeatRow: input has shape {row.ShapeText}, expected one row [1, ...]");
        if (batch < 0) throw new ShapeException($"RepeatRow: batch {batch} is negative");
        int[] shape = (int[])row.Shape.Clone();
        shape[0] = batch;
        var y = NewTensor(shape, row.RequiresGrad);
        Backend.Fill(y.Buffer, 0f, y.Length);
        Backend.AddRowToEach(batch, row.RowLength, y.Buffer, row.Buffer, y.Buffer);
        if (y.RequiresGrad) Record(y, dy => PushColumnSums(row, dy, batch));
        AfterOp("RepeatRow", row);
        return y;
    }

    void PushColumnSums(Tensor row, DeviceBuffer<float> dy, int batch)
    {
        if (!row.RequiresGrad) return;
        var dRow = RentFloat(row.Length);
        Backend.ColumnSum(batch, row.RowLength, dy, dRow);
        PushOwned(row, dRow);
    }

    static void RequireOneRowOf(string op, Tensor a, Tensor row)
    {
        if (row.Batch != 1 || !row.Shape.AsSpan(1).SequenceEqual(a.Shape.AsSpan(1)))
            throw new ShapeException($"{op}: shapes {a.ShapeText} and {row.ShapeText}; the second must be one row [1, ...] of the first's row shape");
    }

    /// <summary>y = a ⊙ b (equal shapes); da = dy ⊙ b and db = dy ⊙ a, from the kept inputs.</summary>
    public Tensor Multiply(Tensor a, Tensor b)
    {
        if (!a.Shape.SequenceEqual(b.Shape))
            throw new ShapeException($"Multiply: shapes {a.ShapeText} and {b.ShapeText} differ");
        var y = NewTensor((int[])a.Shape.Clone(), a.RequiresGrad || b.RequiresGrad);
        Backend.Multiply(a.Buffer, b.Buffer, y.Buffer, a.Length);
        if (y.RequiresGrad)
        {
            a.Storage.KeepForBackward = true;
            b.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                if (a.RequiresGrad)
                {
                    var da = RentFloat(a.Length);
                    Backend.Multiply(dy, b.Buffer, da, a.Length);
                    PushOwned(a, da);
                }
                if (b.RequiresGrad)
                {
                    var db = RentFloat(b.Length);
                    Backend.Multiply(dy, a.Buffer, db, b.Length);
                    PushOwned(b, db);
                }
            });
        }
        AfterOp("Multiply", a, b);
        return y;
    }

    /// <summary>
    /// A <see cref="RowOpKind"/> over the last axis: softmax and log-softmax keep the shape, the reductions (sum, mean,
    /// max) make the last axis 1. The backward reads the kept input and output.
    /// </summary>
    public Tensor RowOp(Tensor x, RowOpKind kind)
    {
        int width = x.Shape[^1];
        var spec = new RowOpSpec(kind, width == 0 ? 0 : x.Length / width, width);
        int[] shape = (int[])x.Shape.Clone();
        shape[^1] = spec.OutWidth;
        var y = NewTensor(shape, x.RequiresGrad);
        Backend.RowOp(spec, x.Buffer, y.Buffer);
        if (y.RequiresGrad)
        {
            x.Storage.KeepForBackward = true;
            y.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.RowOpBackward(spec, x.Buffer, y.Buffer, dy, dx);
                PushOwned(x, dx);
            });
        }
        AfterOp(kind.ToString(), x);
        return y;
    }

    /// <summary>Layer normalisation over the last axis with frozen γ and β (device buffers of its width); the backward reads the kept input.</summary>
    public Tensor LayerNorm(Tensor x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, float epsilon)
    {
        int width = x.Shape[^1];
        var spec = new LayerNormSpec(width == 0 ? 0 : x.Length / width, width, epsilon);
        var y = NewTensor((int[])x.Shape.Clone(), x.RequiresGrad);
        Backend.LayerNorm(spec, x.Buffer, gamma, beta, y.Buffer);
        if (y.RequiresGrad)
        {
            x.Storage.KeepForBackward = true;
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.LayerNormBackward(spec, x.Buffer, gamma, dy, dx);
                PushOwned(x, dx);
            });
        }
        AfterOp("LayerNorm", x);
        return y;
    }

    /// <summary>A view with a new shape over the same buffer (one dimension may be −1).</summary>
    public Tensor Reshape(Tensor x, params int[] shape)
    {
        shape = (int[])shape.Clone();
        int infer = Array.IndexOf(shape, -1);
        long known = 1;
        for (int i = 0; i < shape.Length; i++) if (i != infer) known *= shape[i];
        if (infer >= 0 && known > 0 && x.Length % known == 0) shape[infer] = (int)(x.Length / known);
        long length = 1;
        foreach (int d in shape) length *= d;
        if (length != x.Length || shape.Any(d => d < 0))
            throw new ShapeException($"Reshape: cannot view {x.ShapeText} ({x.Length} elements) as [{string.Join(", ", shape)}]");
        var y = View(x, shape);
        if (y.RequiresGrad) Record(y, _ => PushThrough(x, y));
        AfterOp("Reshape", x);
        return y;
    }

    /// <summary>[N, ...] → [N, rest] view.</summary>
    public Tensor Flatten(Tensor x) => Reshape(x, x.Batch, x.RowLength);

    /// <summary>y[b, j] = x[b, index[j]] for j &lt; columns; x is [N, X].</summary>
    public Tensor GatherColumns(Tensor x, DeviceBuffer<int> index, int columns)
    {
        if (x.Shape.Length != 2) throw new ShapeException($"GatherColumns: input has shape {x.ShapeText}, expected [N, X]");
        int batch = x.Batch, xColumns = x.Shape[1];
        var y = NewTensor([batch, columns], x.RequiresGrad);
        Backend.GatherColumns(batch, x.Buffer, xColumns, index, y.Buffer, columns);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.ScatterColumns(batch, dy, columns, index, dx, xColumns);
                PushOwned(x, dx);
            });
        AfterOp("GatherColumns", x);
        return y;
    }

    /// <summary>y = 0, y[b, index[j]] += x[b, j]; x is [N, X], y is [N, columns] (e.g. fractions → image cells).</summary>
    public Tensor ScatterColumns(Tensor x, DeviceBuffer<int> index, int columns)
    {
        if (x.Shape.Length != 2) throw new ShapeException($"ScatterColumns: input has shape {x.ShapeText}, expected [N, X]");
        int batch = x.Batch, xColumns = x.Shape[1];
        var y = NewTensor([batch, columns], x.RequiresGrad);
        Backend.ScatterColumns(batch, x.Buffer, xColumns, index, y.Buffer, columns);
        if (y.RequiresGrad)
            Record(y, dy =>
            {
                var dx = RentFloat(x.Length);
                Backend.GatherColumns(batch, dy, columns, index, dx, xColumns);
                PushOwned(x, dx);
            });
        AfterOp("ScatterColumns", x);
        return y;
    }

    static void RequireShape(string op, Tensor x, params int[] expected)
    {
        if (!x.Shape.SequenceEqual(expected))
            throw ShapeException.Mismatch(op, "input", "[" + string.Join(", ", expected) + "]", x.ShapeText);
    }
}
