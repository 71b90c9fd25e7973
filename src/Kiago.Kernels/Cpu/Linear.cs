namespace Kiago.Kernels.Cpu;

/// <summary>y = x·Wᵀ + b with Wᵀ (forward) and W (input backward) packed once for the GEMM micro-kernel.</summary>
internal sealed class CpuLinear : ILinear
{
    readonly CpuBackend backend;
    readonly PackedMatrix forward;
    readonly PackedMatrix backward;
    readonly float[]? bias;

    public CpuLinear(CpuBackend backend, LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        const string op = "Linear";
        if (spec.InFeatures <= 0 || spec.OutFeatures <= 0)
            throw new ShapeException($"{op}: invalid spec {spec}");
        ShapeException.RequireExact(op, "weight", weight.Length, spec.OutFeatures, spec.InFeatures);
        if (!bias.IsEmpty) ShapeException.RequireExact(op, "bias", bias.Length, spec.OutFeatures);
        this.backend = backend;
        Spec = spec;
        forward = new PackedMatrix(spec.InFeatures, spec.OutFeatures);
        forward.Pack(weight, 1, spec.InFeatures);
        backward = new PackedMatrix(spec.OutFeatures, spec.InFeatures);
        backward.Pack(weight, spec.InFeatures, 1);
        this.bias = bias.IsEmpty ? null : bias.ToArray();
    }

    public LinearSpec Spec { get; }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false)
    {
        const string op = "Linear";
        if (batch < 0) throw new ShapeException($"{op}: batch {batch} is negative");
        ShapeException.RequireShape(op, "x", x, batch, Spec.InFeatures);
        ShapeException.RequireShape(op, "y", y, batch, Spec.OutFeatures);
        backend.RunGemm(batch, backend.Own(x, op, "x").Array, Spec.InFeatures, forward,
            backend.Own(y, op, "y").Array, Spec.OutFeatures, accumulate: false, bias, fuseRelu);
    }

    public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "LinearBackward";
        if (batch < 0) throw new ShapeException($"{op}: batch {batch} is negative");
        ShapeException.RequireShape(op, "dy", dy, batch, Spec.OutFeatures);
        ShapeException.RequireShape(op, "dx", dx, batch, Spec.InFeatures);
        backend.RunGemm(batch, backend.Own(dy, op, "dy").Array, Spec.OutFeatures, backward,
            backend.Own(dx, op, "dx").Array, Spec.InFeatures, accumulate: false, bias: null, relu: false);
    }

    public void Dispose() { }
}
