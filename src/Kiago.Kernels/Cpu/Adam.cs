using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

// The Adam update (PyTorch semantics); the ILGPU side is Ilgpu/Ops/Adam.cs.
public sealed partial class CpuBackend
{
    public void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count)
    {
        const string op = "AdamUpdate";
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"{op}: step is 1-based");
        RequireCount(op, count);
        ShapeException.RequireLength(op, "parameter", parameter, count);
        ShapeException.RequireLength(op, "gradient", gradient, count);
        ShapeException.RequireLength(op, "firstMoment", firstMoment, count);
        ShapeException.RequireLength(op, "secondMoment", secondMoment, count);
        var p = Own(parameter, op, "parameter").Array;
        var g = Own(gradient, op, "gradient").Array;
        var m = Own(firstMoment, op, "firstMoment").Array;
        var v = Own(secondMoment, op, "secondMoment").Array;
        // PyTorch: step_size = lr / (1 − β1ᵗ); denom = sqrt(v) / sqrt(1 − β2ᵗ) + ε.
        float b1 = spec.Beta1, b2 = spec.Beta2;
        float stepSize = (float)(spec.LearningRate / (1.0 - Math.Pow(b1, step)));
        float invSqrtBc2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(b2, step)));
        float eps = spec.Epsilon;
        ParallelRange(count, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float gi = g[i];
                float mi = b1 * m[i] + (1f - b1) * gi;
                float vi = b2 * v[i] + (1f - b2) * gi * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] -= stepSize * mi / (MathF.Sqrt(vi) * invSqrtBc2 + eps);
            }
        });
    }
}
