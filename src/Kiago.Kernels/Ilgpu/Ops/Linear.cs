using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// A frozen fully connected layer on the register-blocked GEMM. The weight is kept twice so both directions read
/// B row-major with unit column stride (coalesced): Wᵀ [In, Out] for y = x·Wᵀ + b, and W [Out, In] for dx = dy·W.
/// </summary>
public sealed class IlgpuLinear : ILinear
{
    readonly IlgpuBackend backend;
    readonly MemoryBuffer1D<float, Stride1D.Dense> weightT, weight, bias;
    readonly bool hasBias;

    internal IlgpuLinear(IlgpuBackend backend, LinearSpec spec, ReadOnlySpan<float> w, ReadOnlySpan<float> b)
    {
        const string op = "PrepareLinear";
        if (spec.InFeatures <= 0 || spec.OutFeatures <= 0)
            throw new ShapeException($"{op}: invalid spec {spec}");
        if (w.Length != (long)spec.InFeatures * spec.OutFeatures)
            throw ShapeException.Mismatch(op, "weight", $"[{spec.OutFeatures}, {spec.InFeatures}]", $"({w.Length})");
        if (b.Length != 0 && b.Length != spec.OutFeatures)
            throw ShapeException.Mismatch(op, "bias", $"[{spec.OutFeatures}] or empty", $"[{b.Length}]");
        this.backend = backend;
        Spec = spec;
        hasBias = !b.IsEmpty;
        var t = new float[w.Length];
        for (int o = 0; o < spec.OutFeatures; o++)
            for (int i = 0; i < spec.InFeatures; i++)
                t[i * spec.OutFeatures + o] = w[o * spec.InFeatures + i];
        weightT = backend.UploadFrozen(t);
        weight = backend.UploadFrozen(w.ToArray());
        bias = backend.UploadFrozen(hasBias ? b.ToArray() : [0f]);
    }

    public LinearSpec Spec { get; }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false)
    {
        const string op = "Linear.Forward";
        var xv = backend.View(x, op, "x", (long)batch * Spec.InFeatures);
        var yv = backend.View(y, op, "y", (long)batch * Spec.OutFeatures);
        var s = IlgpuGemm.Shape(batch, Spec.OutFeatures, Spec.InFeatures, false, false, 1f, 0f);
        s.HasBias = hasBias ? 1 : 0;
        s.Relu = fuseRelu ? 1 : 0;
        backend.GemmKernels.Run(s, xv, weightT.View, yv, bias.View);
    }

    public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "Linear.BackwardInput";
        var dyv = backend.View(dy, op, "dy", (long)batch * Spec.OutFeatures);
        var dxv = backend.View(dx, op, "dx", (long)batch * Spec.InFeatures);
        var s = IlgpuGemm.Shape(batch, Spec.InFeatures, Spec.OutFeatures, false, false, 1f, 0f);
        backend.GemmKernels.Run(s, dyv, weight.View, dxv, bias.View);
    }

    public void Dispose()
    {
        backend.FreeFrozen(weightT);
        backend.FreeFrozen(weight);
        backend.FreeFrozen(bias);
    }
}
