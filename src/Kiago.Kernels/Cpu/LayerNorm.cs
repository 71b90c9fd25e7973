namespace Kiago.Kernels.Cpu;

// Layer normalisation over the last axis and its input gradient; the ILGPU side is Ilgpu/Ops/LayerNorm.cs. One row at a
// time in a fixed order (mean, then the variance of the deviations), so results do not depend on the thread count.
public sealed partial class CpuBackend
{
    public void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y)
    {
        const string op = "LayerNorm";
        var (xa, ga, ba, ya) = LayerNormBuffers(op, spec, x, gamma, beta, "beta", y, "y");
        int w = spec.Width;
        float eps = spec.Epsilon;
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                int o = r * w;
                var (mean, rstd) = RowStatistics(xa, o, w, eps);
                for (int i = 0; i < w; i++) ya[o + i] = ga[i] * ((xa[o + i] - mean) * rstd) + ba[i];
            }
        }, grain: Math.Max(1, (1 << 14) / w));
    }

    public void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "LayerNormBackward";
        var (xa, ga, dya, dxa) = LayerNormBuffers(op, spec, x, gamma, dy, "dy", dx, "dx");
        int w = spec.Width;
        float eps = spec.Epsilon;
        ParallelRange(spec.Rows, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                int o = r * w;
                var (mean, rstd) = RowStatistics(xa, o, w, eps);
                float sumG = 0f, sumGx = 0f;
                for (int i = 0; i < w; i++)
                {
                    float g = dya[o + i] * ga[i];
                    sumG += g;
                    sumGx += g * ((xa[o + i] - mean) * rstd);
                }
                float meanG = sumG / w, meanGx = sumGx / w;
                for (int i = 0; i < w; i++)
                    dxa[o + i] = rstd * (dya[o + i] * ga[i] - meanG - (xa[o + i] - mean) * rstd * meanGx);
            }
        }, grain: Math.Max(1, (1 << 14) / w));
    }

    /// <summary>The row's mean and 1/√(variance + ε), the variance taken of the deviations (two passes: no cancellation).</summary>
    static (float Mean, float Rstd) RowStatistics(float[] x, int offset, int width, float epsilon)
    {
        float sum = 0f;
        for (int i = 0; i < width; i++) sum += x[offset + i];
        float mean = sum / width;
        float squares = 0f;
        for (int i = 0; i < width; i++)
        {
            float d = x[offset + i] - mean;
            squares += d * d;
        }
        return (mean, 1f / MathF.Sqrt(squares / width + epsilon));
    }

    (float[] X, float[] Gamma, float[] Third, float[] Out) LayerNormBuffers(string op, LayerNormSpec spec, DeviceBuffer<float> x,
        DeviceBuffer<float> gamma, DeviceBuffer<float> third, string thirdName, DeviceBuffer<float> output, string outputName)
    {
        bool rowsAreThird = thirdName == "dy";
        ShapeException.RequireLength(op, "x", x, spec.Count);
        ShapeException.RequireLength(op, "gamma", gamma, spec.Width);
        ShapeException.RequireLength(op, thirdName, third, rowsAreThird ? spec.Count : spec.Width);
        ShapeException.RequireLength(op, outputName, output, spec.Count);
        if (spec.Count > int.MaxValue) throw new ShapeException($"{op}: {spec.Count} values exceed the CPU backend's 2³¹ − 1 per buffer");
        return (Own(x, op, "x").Array, Own(gamma, op, "gamma").Array, Own(third, op, thirdName).Array, Own(output, op, outputName).Array);
    }
}
