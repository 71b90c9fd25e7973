using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>Per-launch constants of one Adam step; the bias corrections are computed on the host in double.</summary>
public struct AdamStep
{
    public float Beta1, Beta2, Epsilon;
    /// <summary>lr / (1 − β1^t).</summary>
    public float StepSize;
    /// <summary>1 / √(1 − β2^t).</summary>
    public float InverseSqrtCorrection2;
    public int Count, GridStride;
}

/// <summary>One fused Adam kernel (PyTorch semantics, no weight decay): moments and parameter in one pass.</summary>
sealed class IlgpuAdam(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? kernel;

    public void Update(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count)
    {
        const string op = "AdamUpdate";
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"{op}: step is 1-based");
        var p = backend.View(parameter, op, "parameter", count);
        var g = backend.View(gradient, op, "gradient", count);
        var m = backend.View(firstMoment, op, "firstMoment", count);
        var v = backend.View(secondMoment, op, "secondMoment", count);
        int n = IlgpuBackend.Count(op, count);
        if (n == 0) return;
        var a = new AdamStep
        {
            Beta1 = spec.Beta1, Beta2 = spec.Beta2, Epsilon = spec.Epsilon,
            StepSize = (float)(spec.LearningRate / (1 - Math.Pow(spec.Beta1, step))),
            InverseSqrtCorrection2 = (float)(1 / Math.Sqrt(1 - Math.Pow(spec.Beta2, step))),
            Count = n, GridStride = backend.GridSize(n),
        };
        kernel ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(AdamKernel);
        kernel(backend.Stream, a.GridStride, a, p, g, m, v);
    }

    [IlgpuKernel]
    internal static void AdamKernel(Index1D index, AdamStep a, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v)
    {
        for (int i = index; i < a.Count; i += a.GridStride)
        {
            float gi = g[i];
            float mi = a.Beta1 * m[i] + (1f - a.Beta1) * gi;
            float vi = a.Beta2 * v[i] + (1f - a.Beta2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] -= a.StepSize * mi / (MathF.Sqrt(vi) * a.InverseSqrtCorrection2 + a.Epsilon);
        }
    }
}
