using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

// Layer normalisation over the last axis and its input gradient; the row math is LayerNormSpec's (shared with
// Ilgpu/Ops/LayerNorm.cs), the forward's row also in 8 lanes (ForwardRow: the same sums in the same order, so the
// same bits). One row at a time: results do not depend on the thread count.
public sealed partial class CpuBackend
{
    public void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y)
    {
        const string op = "LayerNorm";
        var (xa, ga, ba, ya) = LayerNormBuffers(op, spec, x, gamma, (beta, "beta", spec.Width), (y, "y"));
        var (width, epsilon) = (spec.Width, spec.Epsilon);
        var (xr, gr, br, yr) = (xa.Array, ga.Array, ba.Array, ya.Array);
        ParallelRange(spec.Rows, (s, e) =>
        {
            if (Simd)
                for (int r = s; r < e; r++) ForwardRow(xr, gr, br, yr, r * width, width, epsilon);
            else
                for (int r = s; r < e; r++) LayerNormSpec.Forward(xa, ga, ba, ya, r * width, width, epsilon);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    /// <summary><see cref="LayerNormSpec.Forward{TView}"/> for one row in 8 lanes.</summary>
    static void ForwardRow(float[] x, float[] gamma, float[] beta, float[] y, int offset, int width, float epsilon)
    {
        var (mean, rstd) = RowStatistics(x, offset, width, epsilon);
        int blocks = width / 8 * 8, i;
        Vector256<float> m = Vector256.Create(mean), r = Vector256.Create(rstd);
        for (i = 0; i < blocks; i += 8)
            (Vector256.Create(gamma, i) * ((Vector256.Create(x, offset + i) - m) * r) + Vector256.Create(beta, i)).CopyTo(y, offset + i);
        for (; i < width; i++) y[offset + i] = gamma[i] * ((x[offset + i] - mean) * rstd) + beta[i];
    }

    /// <summary><see cref="LayerNormSpec.Statistics{TView}"/> of one row, lane l of the accumulators holding partial sum l (the same bits).</summary>
    static (float Mean, float Rstd) RowStatistics(float[] x, int offset, int width, float epsilon)
    {
        int blocks = width / 8 * 8, i = 0;
        var sum = Vector256<float>.Zero;
        for (; i < blocks; i += 8) sum += Vector256.Create(x, offset + i);
        float s0 = sum[0];
        for (; i < width; i++) s0 += x[offset + i];
        float mean = LayerNormSpec.Combine(s0, sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7]) / width;
        var m = Vector256.Create(mean);
        var squares = Vector256<float>.Zero;
        for (i = 0; i < blocks; i += 8)
        {
            var d = Vector256.Create(x, offset + i) - m;
            squares += d * d;
        }
        float q0 = squares[0];
        for (; i < width; i++)
        {
            float d = x[offset + i] - mean;
            q0 += d * d;
        }
        return (mean, LayerNormSpec.Rstd(LayerNormSpec.Combine(q0, squares[1], squares[2], squares[3], squares[4], squares[5], squares[6], squares[7]), width, epsilon));
    }

    public void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "LayerNormBackward";
        var (xa, ga, dya, dxa) = LayerNormBuffers(op, spec, x, gamma, (dy, "dy", spec.Count), (dx, "dx"));
        var (width, epsilon) = (spec.Width, spec.Epsilon);
        var (xr, gr, dyr, dxr) = (xa.Array, ga.Array, dya.Array, dxa.Array);
        ParallelRange(spec.Rows, (s, e) =>
        {
            if (Simd)
                for (int r = s; r < e; r++) BackwardRow(xr, gr, dyr, dxr, r * width, width, epsilon);
            else
                for (int r = s; r < e; r++) LayerNormSpec.Backward(xa, ga, dya, dxa, r * width, width, epsilon);
        }, grain: Math.Max(1, (1 << 14) / width));
    }

    /// <summary><see cref="LayerNormSpec.Backward{TView}"/> for one row in 8 lanes: the same sums in the same order, the same bits.</summary>
    static void BackwardRow(float[] x, float[] gamma, float[] dy, float[] dx, int offset, int width, float epsilon)
    {
        var (mean, rstd) = RowStatistics(x, offset, width, epsilon);
        int blocks = width / 8 * 8, i = 0;
        Vector256<float> m = Vector256.Create(mean), r = Vector256.Create(rstd), sumG = Vector256<float>.Zero, sumGx = Vector256<float>.Zero;
        for (; i < blocks; i += 8)
        {
            var g = Vector256.Create(dy, offset + i) * Vector256.Create(gamma, i);
            sumG += g;
            sumGx += g * ((Vector256.Create(x, offset + i) - m) * r);
        }
        float g0 = sumG[0], h0 = sumGx[0];
        for (; i < width; i++)
        {
            float g = dy[offset + i] * gamma[i];
            g0 += g;
            h0 += g * ((x[offset + i] - mean) * rstd);
        }
        float meanG = LayerNormSpec.Combine(g0, sumG[1], sumG[2], sumG[3], sumG[4], sumG[5], sumG[6], sumG[7]) / width;
        float meanGx = LayerNormSpec.Combine(h0, sumGx[1], sumGx[2], sumGx[3], sumGx[4], sumGx[5], sumGx[6], sumGx[7]) / width;
        Vector256<float> mg = Vector256.Create(meanG), mgx = Vector256.Create(meanGx);
        for (i = 0; i < blocks; i += 8)
            (r * (Vector256.Create(dy, offset + i) * Vector256.Create(gamma, i) - mg - (Vector256.Create(x, offset + i) - m) * r * mgx)).CopyTo(dx, offset + i);
        for (; i < width; i++) dx[offset + i] = rstd * (dy[offset + i] * gamma[i] - meanG - (x[offset + i] - mean) * rstd * meanGx);
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
