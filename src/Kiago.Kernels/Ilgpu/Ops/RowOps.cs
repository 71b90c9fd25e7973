using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

// Row functions over the last axis, one thread per row, through the one definition in RowOpSpec (shared with Cpu/RowOps.cs).
using Forward = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int, int>;
using Backward = Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int, int, int>;

/// <summary>An ArrayView as the row ops' element accessor.</summary>
readonly struct ViewFloats(ArrayView<float> view) : IFloatView
{
    public float Get(int index) => view[index];
    public void Set(int index, float value) => view[index] = value;
}

sealed class IlgpuRowOps(IlgpuBackend backend)
{
    Forward? forward;
    Backward? backward;

    public void Run(RowOpSpec spec, ArrayView<float> x, ArrayView<float> y, int rows)
    {
        if (rows == 0) return;
        forward ??= backend.LoadKernel<Forward>(ForwardKernel);
        int grid = backend.GridSize(rows);
        forward(backend.Stream, grid, x, y, (int)spec.Kind, rows, spec.Width, spec.OutWidth, grid);
    }

    public void Backward(RowOpSpec spec, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int rows)
    {
        if (rows == 0) return;
        backward ??= backend.LoadKernel<Backward>(BackwardKernel);
        int grid = backend.GridSize(rows);
        backward(backend.Stream, grid, x, y, dy, dx, (int)spec.Kind, rows, spec.Width, spec.OutWidth, grid);
    }

    [IlgpuKernel]
    internal static void ForwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, int kind, int rows, int width, int outWidth, int stride)
    {
        for (int r = index; r < rows; r += stride)
            RowOpSpec.Forward((RowOpKind)kind, new ViewFloats(x), r * width, new ViewFloats(y), r * outWidth, width);
    }

    [IlgpuKernel]
    internal static void BackwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx,
        int kind, int rows, int width, int outWidth, int stride)
    {
        for (int r = index; r < rows; r += stride)
            RowOpSpec.Backward((RowOpKind)kind, new ViewFloats(x), r * width, new ViewFloats(y), new ViewFloats(dy), r * outWidth, new ViewFloats(dx), width);
    }
}
