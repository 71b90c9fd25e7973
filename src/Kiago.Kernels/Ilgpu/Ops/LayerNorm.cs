using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

// Layer normalisation over the last axis and its input gradient, one thread per row (widths are small: a model's
// hidden size), through the one row definition in LayerNormSpec (shared with Cpu/LayerNorm.cs).
using Forward = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, int>;
using Backward = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, float, int>;

sealed class IlgpuLayerNorm(IlgpuBackend backend)
{
    Forward? forward;
    Backward? backward;

    public void Run(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y, int rows, int width, float epsilon)
    {
        if (rows == 0) return;
        forward ??= backend.LoadKernel<Forward>(ForwardKernel);
        int grid = backend.GridSize(rows);
        forward(backend.Stream, grid, x, gamma, beta, y, rows, width, epsilon, grid);
    }

    public void Backward(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> dy, ArrayView<float> dx, int rows, int width, float epsilon)
    {
        if (rows == 0) return;
        backward ??= backend.LoadKernel<Backward>(BackwardKernel);
        int grid = backend.GridSize(rows);
        backward(backend.Stream, grid, x, gamma, dy, dx, rows, width, epsilon, grid);
    }

    [IlgpuKernel]
    internal static void ForwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int rows, int width, float epsilon, int stride)
    {
        for (int r = index; r < rows; r += stride)
            LayerNormSpec.Forward(new ViewFloats(x), new ViewFloats(gamma), new ViewFloats(beta), new ViewFloats(y), r * width, width, epsilon);
    }

    [IlgpuKernel]
    internal static void BackwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> dy, ArrayView<float> dx,
        int rows, int width, float epsilon, int stride)
    {
        for (int r = index; r < rows; r += stride)
            LayerNormSpec.Backward(new ViewFloats(x), new ViewFloats(gamma), new ViewFloats(dy), new ViewFloats(dx), r * width, width, epsilon);
    }
}
