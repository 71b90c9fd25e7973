using Kiago.Kernels;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>Small plain-loop references (double) and buffer helpers for the ILGPU-specific tests.</summary>
static class IlgpuTestHelpers
{
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = scale * (float)(2 * rng.NextDouble() - 1);
        return values;
    }

    public static DeviceBuffer<T> Upload<T>(this IBackend backend, T[] values) where T : unmanaged
    {
        var buffer = backend.Allocate<T>(values.Length);
        backend.Upload<T>(values, buffer);
        return buffer;
    }

    public static float[] Download(this IBackend backend, DeviceBuffer<float> buffer, long count)
    {
        var host = new float[count];
        backend.Download<float>(buffer, host);
        return host;
    }

    /// <summary>|expected − actual| ≤ tolerance · max(1, max|expected|) everywhere.</summary>
    public static void AssertClose(string what, double[] expected, float[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1, expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale,
                $"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance * scale})");
    }

    /// <summary>Direct convolution; its adjoint (the input gradient) is <see cref="ConvBackwardInput"/>.</summary>
    public static double[] Conv(Conv2dSpec s, int batch, float[] x, float[] w, float[]? bias, bool relu)
    {
        var y = new double[batch * s.OutSize];
        for (int n = 0; n < batch; n++)
            for (int co = 0; co < s.OutChannels; co++)
                for (int oh = 0; oh < s.OutHeight; oh++)
                    for (int ow = 0; ow < s.OutWidth; ow++)
                    {
                        double sum = bias?[co] ?? 0;
                        foreach (var (ci, ih, iw, wi) in Taps(s, co, oh, ow))
                            sum += (double)x[((n * s.InChannels + ci) * s.InHeight + ih) * s.InWidth + iw] * w[wi];
                        y[((n * s.OutChannels + co) * s.OutHeight + oh) * s.OutWidth + ow] = relu ? Math.Max(0, sum) : sum;
                    }
        return y;
    }

    public static double[] ConvBackwardInput(Conv2dSpec s, int batch, float[] dy, float[] w)
    {
        var dx = new double[batch * s.InSize];
        for (int n = 0; n < batch; n++)
            for (int co = 0; co < s.OutChannels; co++)
                for (int oh = 0; oh < s.OutHeight; oh++)
                    for (int ow = 0; ow < s.OutWidth; ow++)
                    {
                        double d = dy[((n * s.OutChannels + co) * s.OutHeight + oh) * s.OutWidth + ow];
                        foreach (var (ci, ih, iw, wi) in Taps(s, co, oh, ow))
                            dx[((n * s.InChannels + ci) * s.InHeight + ih) * s.InWidth + iw] += d * w[wi];
                    }
        return dx;
    }

    static IEnumerable<(int Ci, int Ih, int Iw, int Wi)> Taps(Conv2dSpec s, int co, int oh, int ow)
    {
        int cinG = s.InChannels / s.Groups, g = co / (s.OutChannels / s.Groups);
        for (int ciL = 0; ciL < cinG; ciL++)
            for (int kh = 0; kh < s.KernelHeight; kh++)
            {
                int ih = oh * s.StrideH - s.PadTop + kh * s.DilationH;
                if (ih < 0 || ih >= s.InHeight) continue;
                for (int kw = 0; kw < s.KernelWidth; kw++)
                {
                    int iw = ow * s.StrideW - s.PadLeft + kw * s.DilationW;
                    if (iw < 0 || iw >= s.InWidth) continue;
                    yield return (g * cinG + ciL, ih, iw, ((co * cinG + ciL) * s.KernelHeight + kh) * s.KernelWidth + kw);
                }
            }
    }

    public static double[] Gemm(int m, int n, int k, float[] a, bool ta, float[] b, bool tb, float[] c, float alpha, float beta)
    {
        var result = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                result[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        return result;
    }
}
