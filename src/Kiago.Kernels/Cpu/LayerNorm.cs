namespace Kiago.Kernels.Cpu;

// Layer normalisation over the last axis and its input gradient; the row math is LayerNormSpec's (shared with
// Ilgpu/Ops/LayerNorm.cs). One row at a time: results do not depend on the thread count.
public sealed partial class CpuBackend
{
    public void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y)
    {
        const string op = "LayerNorm";
        var (xa, ga, ba, ya) = LayerNormBuffers(op, spec, x, gamma, (beta, "beta", spec.Width), (y, "y"));
        var (width, epsilon) = (spec.Width, spec.Epsilon);
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++) LayerNormSpec.Forward(xa, ga, ba, ya, r * width, width, epsilon);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    public void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "LayerNormBackward";
        var (xa, ga, dya, dxa) = LayerNormBuffers(op, spec, x, gamma, (dy, "dy", spec.Count), (dx, "dx"));
        var (width, epsilon) = (spec.Width, spec.Epsilon);
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++) LayerNormSpec.Backward(xa, ga, dya, dxa, r * width, width, epsilon);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    (ArrayFloats X, ArrayFloats Gamma, ArrayFloats Third, ArrayFloats Out) LayerNormBuffers(string op, LayerNormSpec spec, DeviceBuffer<float> x,
        DeviceBuffer<float> gamma, (DeviceBuffer<float> Buffer, string Name, long Length) third, (DeviceBuffer<float> Buffer, string Name) output)
    {
        ShapeException.RequireLength(op, "x", x, spec.Count);
        ShapeException.RequireLength(op, "gamma", gamma, spec.Width);
        ShapeException.RequireLength(op, third.Name, third.Buffer, third.Length);
        ShapeException.RequireLength(op, output.Name, output.Buffer, spec.Count);
        if (spec.Count > int.MaxValue) throw new ShapeException($"{op}: {spec.Count} values exceed the CPU backend's 2³¹ − 1 per buffer");
        return (new(Own(x, op, "x").Array), new(Own(gamma, op, "gamma").Array), new(Own(third.Buffer, op, third.Name).Array),
            new(Own(output.Buffer, op, output.Name).Array));
    }
}
