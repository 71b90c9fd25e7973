using ILGPU;
using ILGPU.Runtime;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Kernels.Composition;

/// <summary>Per-launch constants of the ILGPU composition kernels.</summary>
public struct CompositionLaunch
{
    public int Batch, GridStride, NCount, Absolute, IntegerLoss, K;
    /// <summary>1 − Σc.</summary>
    public float Free;
    public float IntegerScale;
}

/// <summary>
/// ILGPU version of the fused composition kernel: one thread per candidate (grid-stride over candidates), the 118
/// elements looped inside; the backward recomputes the forward quantities from θ instead of storing them and uses
/// the gradient buffer as scratch between its passes. Same maths and float32 operation order as
/// <see cref="CompositionKernelCpu"/> up to summation order (the CPU sums in 8 lanes).
/// </summary>
internal sealed class CompositionKernelIlgpu : ICompositionKernel
{
    const int E = CompositionSpec.Elements;
    readonly IlgpuBackend device;
    readonly DeviceBuffer<float> allowedMask, fixedFractions;
    readonly DeviceBuffer<int> nSetBuffer;
    readonly float free;

    public CompositionKernelIlgpu(IlgpuBackend backend, CompositionSpec spec)
    {
        device = backend;
        Spec = spec;
        allowedMask = backend.Allocate<float>(E); backend.Upload<float>(spec.Allowed, allowedMask);
        fixedFractions = backend.Allocate<float>(E); backend.Upload<float>(spec.Fixed, fixedFractions);
        nSetBuffer = backend.Allocate<int>(spec.NSet.Length); backend.Upload<int>(spec.NSet, nSetBuffer);
        free = 1f - spec.FixedSum;
    }

    public CompositionSpec Spec { get; }

    static ArrayView<T> V<T>(DeviceBuffer<T> b) where T : unmanaged => b is IlgpuBuffer<T> g
        ? g.View
        : throw new NotSupportedException($"the ILGPU composition kernel needs ILGPU buffers; got {b.GetType().Name}");

    CompositionLaunch Launch(int batch) => new()
    {
        Batch = batch, GridStride = device.GridSize(batch), NCount = Spec.NSet.Length,
        Absolute = Spec.Distance == IntegerDistance.Absolute ? 1 : 0, Free = free,
    };

    public void Forward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> x,
        DeviceBuffer<int> flags, bool integerLoss, DeviceBuffer<float> integerLossOut, DeviceBuffer<int> chosenN)
    {
        if (batch == 0) return;
        var p = Launch(batch);
        p.IntegerLoss = integerLoss ? 1 : 0;
        var k = device.LoadKernel<Action<AcceleratorStream, Index1D, CompositionLaunch, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>>>(ForwardKernel);
        k(device.Stream, p.GridStride, p, V(theta), V(topMask), V(allowedMask), V(fixedFractions), V(nSetBuffer), V(x), V(flags), V(chosenN), V(integerLossOut));
    }

    public void Backward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> gradX,
        DeviceBuffer<int> flags, float integerScale, DeviceBuffer<int> chosenN, DeviceBuffer<float> gradTheta)
    {
        if (batch == 0) return;
        var p = Launch(batch);
        p.IntegerScale = integerScale;
        var k = device.LoadKernel<Action<AcceleratorStream, Index1D, CompositionLaunch, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>>>(BackwardKernel);
        k(device.Stream, p.GridStride, p, V(theta), V(topMask), V(allowedMask), V(fixedFractions), V(gradX), V(flags), V(chosenN), V(gradTheta));
    }

    public void BuildTopMask(int batch, DeviceBuffer<float> x, int k, DeviceBuffer<float> topMask)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 1");
        if (batch == 0) return;
        var p = Launch(batch);
        p.K = k;
        var kernel = device.LoadKernel<Action<AcceleratorStream, Index1D, CompositionLaunch, ArrayView<float>, ArrayView<float>>>(TopMaskKernel);
        kernel(device.Stream, p.GridStride, p, V(x), V(topMask));
    }

    public void Dispose()
    {
        allowedMask.Dispose(); fixedFractions.Dispose(); nSetBuffer.Dispose();
    }

    // ---- kernels -------------------------------------------------------------------------------------------

    [IlgpuKernel]
    internal static void ForwardKernel(Index1D index, CompositionLaunch p, ArrayView<float> theta, ArrayView<float> top,
        ArrayView<float> allowed, ArrayView<float> fixedPart, ArrayView<int> nSet, ArrayView<float> x, ArrayView<int> flags,
        ArrayView<int> chosenN, ArrayView<float> lint)
    {
        for (int b = index; b < p.Batch; b += p.GridStride)
        {
            int o = b * E;
            float s1 = 0f;
            for (int e = 0; e < E; e++) s1 += Relu(theta[o + e] * top[o + e]);
            float s2 = 0f;
            if (s1 > 0f)
                for (int e = 0; e < E; e++) s2 += Relu(Relu(theta[o + e] * top[o + e]) / s1 * allowed[e]);
            bool ok = s1 > 0f && s2 > 0f;
            flags[b] = ok ? 0 : 1;
            for (int e = 0; e < E; e++)
                x[o + e] = ok ? p.Free * (Relu(Relu(theta[o + e] * top[o + e]) / s1 * allowed[e]) / s2) + fixedPart[e] : fixedPart[e];
            if (p.IntegerLoss == 0) continue;
            if (!ok) { lint[b] = 0f; chosenN[b] = nSet[0]; continue; }
            float best = float.PositiveInfinity;
            int bestN = nSet[0];
            for (int i = 0; i < p.NCount; i++)
            {
                int n = nSet[i];
                float inv = 1f / n;
                float loss = 0f;
                for (int e = 0; e < E; e++)
                {
                    float xv = x[o + e];
                    float d = xv - RoundHalfEven(xv / inv) * inv;
                    loss += p.Absolute != 0 ? MathF.Abs(d) : d * d;
                }
                if (loss < best) { best = loss; bestN = n; }
            }
            lint[b] = best;
            chosenN[b] = bestN;
        }
    }

    [IlgpuKernel]
    internal static void BackwardKernel(Index1D index, CompositionLaunch p, ArrayView<float> theta, ArrayView<float> top,
        ArrayView<float> allowed, ArrayView<float> fixedPart, ArrayView<float> gradX, ArrayView<int> flags, ArrayView<int> chosenN,
        ArrayView<float> gradTheta)
    {
        for (int b = index; b < p.Batch; b += p.GridStride)
        {
            int o = b * E;
            float s1 = 0f;
            for (int e = 0; e < E; e++) s1 += Relu(theta[o + e] * top[o + e]);
            float s2 = 0f;
            if (s1 > 0f)
                for (int e = 0; e < E; e++) s2 += Relu(Relu(theta[o + e] * top[o + e]) / s1 * allowed[e]);
            if (flags[b] != 0 || !(s1 > 0f) || !(s2 > 0f))
            {
                for (int e = 0; e < E; e++) gradTheta[o + e] = 0f;
                continue;
            }
            float inv = 1f / chosenN[b];
            // pass 1: gu2 = (1 − Σc)·(gx + scale·dist'), dot2 = Σ gu2·u2
            float dot2 = 0f;
            for (int e = 0; e < E; e++)
            {
                float u2 = Relu(Relu(theta[o + e] * top[o + e]) / s1 * allowed[e]) / s2;
                float g = gradX[o + e];
                if (p.IntegerScale != 0f)
                {
                    float xv = p.Free * u2 + fixedPart[e];
                    float d = xv - RoundHalfEven(xv / inv) * inv;
                    float dd = p.Absolute != 0 ? (d > 0f ? 1f : d < 0f ? -1f : 0f) : d + d;
                    g += p.IntegerScale * dd;
                }
                float gu2 = p.Free * g;
                gradTheta[o + e] = gu2;
                dot2 += gu2 * u2;
            }
            // pass 2: gu1 = [u2 > 0]·M·(gu2 − dot2)/s2, dot1 = Σ gu1·u1
            float dot1 = 0f;
            for (int e = 0; e < E; e++)
            {
                float u1 = Relu(theta[o + e] * top[o + e]) / s1;
                float u2 = Relu(u1 * allowed[e]) / s2;
                float gu1 = u2 > 0f ? (gradTheta[o + e] - dot2) / s2 * allowed[e] : 0f;
                gradTheta[o + e] = gu1;
                dot1 += gu1 * u1;
            }
            // pass 3: gθ = [θ·m > 0]·m·(gu1 − dot1)/s1
            for (int e = 0; e < E; e++)
            {
                float m = top[o + e];
                float a = theta[o + e] * m;
                gradTheta[o + e] = a > 0f ? (gradTheta[o + e] - dot1) / s1 * m : 0f;
            }
        }
    }

    /// <summary>m[e] = 1 iff at most k elements are ≥ x[e] ⟺ x[e] &gt; the (k+1)-th largest (ties at the threshold drop).</summary>
    [IlgpuKernel]
    internal static void TopMaskKernel(Index1D index, CompositionLaunch p, ArrayView<float> x, ArrayView<float> top)
    {
        for (int b = index; b < p.Batch; b += p.GridStride)
        {
            int o = b * E;
            for (int e = 0; e < E; e++)
            {
                float v = x[o + e];
                int atLeast = 0;
                for (int j = 0; j < E; j++) if (x[o + j] >= v) atLeast++;
                top[o + e] = atLeast <= p.K ? 1f : 0f;
            }
        }
    }

    static float Relu(float v) => v > 0f ? v : 0f;

    /// <summary>
    /// Round half to even (= MathF.Round) through an integer truncation. MathF.Round itself compiles under ILGPU to
    /// the float trick v + 2²³ − 2²³ (non-.rn add/sub in PTX), which the CUDA JIT folds to v: measured on an H200,
    /// every candidate then had integer loss 0 and N = 1. Exact for |v| &lt; 2³¹ (here v = x·N ≤ the largest N).
    /// </summary>
    public static float RoundHalfEven(float v)
    {
        int t = (int)v; // cvt.rzi: truncation toward zero
        float f = v - t; // exact: t and v share the exponent range
        if (f > 0.5f || (f == 0.5f && (t & 1) != 0)) return t + 1;
        if (f < -0.5f || (f == -0.5f && (t & 1) != 0)) return t - 1;
        return t;
    }
}
