using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

// Memory-bound elementwise ops: grid-stride loops, consecutive threads on consecutive elements (coalesced).
using Unary = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int>;
using Binary = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>;
using WithScalar = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, float, int, int>;

sealed class IlgpuElementwise(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, ArrayView<float>, float, int, int>? fill, scale;
    Unary? relu, sigmoid;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, float, float, float, int, int>? unary;
    Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float, float, int, int>? unaryBackward;
    Binary? reluBackward, sigmoidBackward, add, multiply;
    WithScalar? axpy;

    public void Fill(ArrayView<float> y, float value, int count)
    {
        if (count == 0) return;
        fill ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, float, int, int>>(FillKernel);
        int grid = backend.GridSize(count);
        fill(backend.Stream, grid, y, value, count, grid);
    }

    public void Scale(ArrayView<float> x, float alpha, int count)
    {
        if (count == 0) return;
        scale ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, float, int, int>>(ScaleKernel);
        int grid = backend.GridSize(count);
        scale(backend.Stream, grid, x, alpha, count, grid);
    }

    public void Relu(ArrayView<float> x, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        relu ??= backend.LoadKernel<Unary>(ReluKernel);
        int grid = backend.GridSize(count);
        relu(backend.Stream, grid, x, y, count, grid);
    }

    public void ReluBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        if (count == 0) return;
        reluBackward ??= backend.LoadKernel<Binary>(ReluBackwardKernel);
        int grid = backend.GridSize(count);
        reluBackward(backend.Stream, grid, y, dy, dx, count, grid);
    }

    public void Sigmoid(ArrayView<float> x, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        sigmoid ??= backend.LoadKernel<Unary>(SigmoidKernel);
        int grid = backend.GridSize(count);
        sigmoid(backend.Stream, grid, x, y, count, grid);
    }

    public void SigmoidBackward(ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        if (count == 0) return;
        sigmoidBackward ??= backend.LoadKernel<Binary>(SigmoidBackwardKernel);
        int grid = backend.GridSize(count);
        sigmoidBackward(backend.Stream, grid, y, dy, dx, count, grid);
    }

    public void Unary(UnarySpec spec, ArrayView<float> x, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        unary ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, float, float, float, int, int>>(UnaryKernel);
        int grid = backend.GridSize(count);
        unary(backend.Stream, grid, x, y, (int)spec.Kind, spec.Alpha, spec.Min, spec.Max, count, grid);
    }

    public void UnaryBackward(UnarySpec spec, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int count)
    {
        if (count == 0) return;
        unaryBackward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, float, float, float, int, int>>(UnaryBackwardKernel);
        int grid = backend.GridSize(count);
        unaryBackward(backend.Stream, grid, x, y, dy, dx, (int)spec.Kind, spec.Alpha, spec.Min, spec.Max, count, grid);
    }

    public void Add(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        add ??= backend.LoadKernel<Binary>(AddKernel);
        int grid = backend.GridSize(count);
        add(backend.Stream, grid, a, b, y, count, grid);
    }

    public void Multiply(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        multiply ??= backend.LoadKernel<Binary>(MultiplyKernel);
        int grid = backend.GridSize(count);
        multiply(backend.Stream, grid, a, b, y, count, grid);
    }

    public void Axpy(float alpha, ArrayView<float> x, ArrayView<float> y, int count)
    {
        if (count == 0) return;
        axpy ??= backend.LoadKernel<WithScalar>(AxpyKernel);
        int grid = backend.GridSize(count);
        axpy(backend.Stream, grid, x, y, alpha, count, grid);
    }

    [IlgpuKernel]
    internal static void FillKernel(Index1D index, ArrayView<float> y, float value, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = value;
    }

    [IlgpuKernel]
    internal static void ScaleKernel(Index1D index, ArrayView<float> x, float alpha, int count, int stride)
    {
        for (int i = index; i < count; i += stride) x[i] = alpha * x[i];
    }

    /// <summary>y = max(x, 0); NaN stays NaN (as PyTorch).</summary>
    [IlgpuKernel]
    internal static void ReluKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int count, int stride)
    {
        for (int i = index; i < count; i += stride)
        {
            float v = x[i];
            y[i] = v < 0f ? 0f : v;
        }
    }

    [IlgpuKernel]
    internal static void ReluBackwardKernel(Index1D index, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int count, int stride)
    {
        for (int i = index; i < count; i += stride) dx[i] = y[i] > 0f ? dy[i] : 0f;
    }

    /// <summary>y = 1 / (1 + e^(−x)).</summary>
    [IlgpuKernel]
    internal static void SigmoidKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = 1f / (1f + MathF.Exp(-x[i]));
    }

    [IlgpuKernel]
    internal static void SigmoidBackwardKernel(Index1D index, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int count, int stride)
    {
        for (int i = index; i < count; i += stride)
        {
            float v = y[i];
            dx[i] = dy[i] * v * (1f - v);
        }
    }

    /// <summary>y = f(x) for the <see cref="UnaryKind"/> <paramref name="kind"/> (the scalar definition shared with the CPU).</summary>
    [IlgpuKernel]
    internal static void UnaryKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int kind, float alpha, float min, float max, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = UnarySpec.Forward((UnaryKind)kind, x[i], alpha, min, max);
    }

    [IlgpuKernel]
    internal static void UnaryBackwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx,
        int kind, float alpha, float min, float max, int count, int stride)
    {
        for (int i = index; i < count; i += stride) dx[i] = dy[i] * UnarySpec.Derivative((UnaryKind)kind, x[i], y[i], alpha, min, max);
    }

    [IlgpuKernel]
    internal static void MultiplyKernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = a[i] * b[i];
    }

    [IlgpuKernel]
    internal static void AddKernel(Index1D index, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] = a[i] + b[i];
    }

    [IlgpuKernel]
    internal static void AxpyKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, float alpha, int count, int stride)
    {
        for (int i = index; i < count; i += stride) y[i] += alpha * x[i];
    }
}
