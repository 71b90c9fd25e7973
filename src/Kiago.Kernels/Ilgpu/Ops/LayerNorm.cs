using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

// Layer normalisation over the last axis and its input gradient, one thread per row (widths are small: a model's
// hidden size), in the same order of operations as the CPU side (Cpu/LayerNorm.cs).
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
        {
            int o = r * width;
            float mean = RowMean(x, o, width);
            float rstd = RowRstd(x, o, width, mean, epsilon);
            for (int i = 0; i < width; i++) y[o + i] = gamma[i] * ((x[o + i] - mean) * rstd) + beta[i];
        }
    }

    [IlgpuKernel]
    internal static void BackwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> dy, ArrayView<float> dx,
        int rows, int width, float epsilon, int stride)
    {
        for (int r = index; r < rows; r += stride)
        {
            int o = r * width;
            float mean = RowMean(x, o, width);
            float rstd = RowRstd(x, o, width, mean, epsilon);
            float sumG = 0f, sumGx = 0f;
            for (int i = 0; i < width; i++)
            {
                float g = dy[o + i] * gamma[i];
                sumG += g;
                sumGx += g * ((x[o + i] - mean) * rstd);
            }
            float meanG = sumG / width, meanGx = sumGx / width;
            for (int i = 0; i < width; i++)
                dx[o + i] = rstd * (dy[o + i] * gamma[i] - meanG - (x[o + i] - mean) * rstd * meanGx);
        }
    }

    static float RowMean(ArrayView<float> x, int offset, int width)
    {
        float sum = 0f;
        for (int i = 0; i < width; i++) sum += x[offset + i];
        return sum / width;
    }

    static float RowRstd(ArrayView<float> x, int offset, int width, float mean, float epsilon)
    {
        float squares = 0f;
        for (int i = 0; i < width; i++)
        {
            float d = x[offset + i] - mean;
            squares += d * d;
        }
        return 1f / MathF.Sqrt(squares / width + epsilon);
    }
}
