namespace Kiago.Kernels.Cpu;

// Row functions over the last axis (softmax, log-softmax, sum, mean, max); the ILGPU side is Ilgpu/Ops/RowOps.cs and both
// call the one definition in RowOpSpec. One row at a time in a fixed order: the same bytes for any thread count.
public sealed partial class CpuBackend
{
    /// <summary>A float[] as the shared row math's element accessor (RowOpSpec, LayerNormSpec).</summary>
    readonly struct ArrayFloats(float[] array) : IFloatView
    {
        public float[] Array { get; } = array;
        public float Get(int index) => Array[index];
        public void Set(int index, float value) => Array[index] = value;
    }

    public void RowOp(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        string op = spec.Kind.ToString();
        RequireRowOp(op, spec);
        ShapeException.RequireLength(op, "x", x, spec.Count);
        ShapeException.RequireLength(op, "y", y, spec.OutCount);
        var xa = new ArrayFloats(Own(x, op, "x").Array);
        var ya = new ArrayFloats(Own(y, op, "y").Array);
        var (kind, width, outWidth) = (spec.Kind, spec.Width, spec.OutWidth);
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++) RowOpSpec.Forward(kind, xa, r * width, ya, r * outWidth, width);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    public void RowOpBackward(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        string op = spec.Kind + "Backward";
        RequireRowOp(op, spec);
        ShapeException.RequireLength(op, "x", x, spec.Count);
        ShapeException.RequireLength(op, "y", y, spec.OutCount);
        ShapeException.RequireLength(op, "dy", dy, spec.OutCount);
        ShapeException.RequireLength(op, "dx", dx, spec.Count);
        var xa = new ArrayFloats(Own(x, op, "x").Array);
        var ya = new ArrayFloats(Own(y, op, "y").Array);
        var dya = new ArrayFloats(Own(dy, op, "dy").Array);
        var dxa = new ArrayFloats(Own(dx, op, "dx").Array);
        var (kind, width, outWidth) = (spec.Kind, spec.Width, spec.OutWidth);
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++) RowOpSpec.Backward(kind, xa, r * width, ya, dya, r * outWidth, dxa, width);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    static void RequireRowOp(string op, RowOpSpec spec)
    {
        if (spec.Count > int.MaxValue) throw new ShapeException($"{op}: {spec.Count} values exceed the CPU backend's 2³¹ − 1 per buffer");
    }
}
