using Kiago.Kernels;

namespace Kiago.Tests.Kernels;

/// <summary>
/// Obviously-correct double-precision scalar loops for every backend op: the ground truth the backends are
/// tested against (forward values, and finite differences for gradients).
/// </summary>
public static class ReferenceOps
{
    public static double[] Conv2d(Conv2dSpec s, int batch, double[] x, double[] w, double[]? bias, bool relu = false)
    {
        int cinG = s.InChannels / s.Groups, coutG = s.OutChannels / s.Groups;
        int oh = s.OutHeight, ow = s.OutWidth;
        var y = new double[batch * s.OutSize];
        for (int n = 0; n < batch; n++)
            for (int co = 0; co < s.OutChannels; co++)
            {
                int g = co / coutG;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        double sum = bias is null || bias.Length == 0 ? 0 : bias[co];
                        for (int ci = 0; ci < cinG; ci++)
                            for (int kh = 0; kh < s.KernelHeight; kh++)
                                for (int kw = 0; kw < s.KernelWidth; kw++)
                                {
                                    int ih = i * s.StrideH - s.PadTop + kh * s.DilationH;
                                    int iw = j * s.StrideW - s.PadLeft + kw * s.DilationW;
                                    if (ih < 0 || ih >= s.InHeight || iw < 0 || iw >= s.InWidth) continue;
                                    int c = g * cinG + ci;
                                    sum += w[((co * cinG + ci) * s.KernelHeight + kh) * s.KernelWidth + kw] *
                                           x[((n * s.InChannels + c) * s.InHeight + ih) * s.InWidth + iw];
                                }
                        y[((n * s.OutChannels + co) * oh + i) * ow + j] = relu ? Math.Max(0, sum) : sum;
                    }
            }
        return y;
    }

    /// <summary>The input gradient of <see cref="Conv2d"/> without ReLU (its adjoint): dx = Σ over taps of dy·w.</summary>
    public static double[] Conv2dBackwardInput(Conv2dSpec s, int batch, double[] dy, double[] w)
    {
        int cinG = s.InChannels / s.Groups, coutG = s.OutChannels / s.Groups;
        var dx = new double[batch * s.InSize];
        for (int n = 0; n < batch; n++)
            for (int co = 0; co < s.OutChannels; co++)
            {
                int g = co / coutG;
                for (int i = 0; i < s.OutHeight; i++)
                    for (int j = 0; j < s.OutWidth; j++)
                    {
                        double d = dy[((n * s.OutChannels + co) * s.OutHeight + i) * s.OutWidth + j];
                        for (int ci = 0; ci < cinG; ci++)
                            for (int kh = 0; kh < s.KernelHeight; kh++)
                                for (int kw = 0; kw < s.KernelWidth; kw++)
                                {
                                    int ih = i * s.StrideH - s.PadTop + kh * s.DilationH;
                                    int iw = j * s.StrideW - s.PadLeft + kw * s.DilationW;
                                    if (ih < 0 || ih >= s.InHeight || iw < 0 || iw >= s.InWidth) continue;
                                    dx[((n * s.InChannels + g * cinG + ci) * s.InHeight + ih) * s.InWidth + iw] +=
                                        d * w[((co * cinG + ci) * s.KernelHeight + kh) * s.KernelWidth + kw];
                                }
                    }
            }
        return dx;
    }

    /// <summary>Widens float data for the references.</summary>
    public static double[] ToDouble(float[] values) => [.. values.Select(v => (double)v)];

    /// <summary>y = x·Wᵀ + b, W is [Out, In].</summary>
    public static double[] Linear(LinearSpec s, int batch, double[] x, double[] w, double[]? bias, bool relu = false)
    {
        var y = new double[batch * s.OutFeatures];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < s.OutFeatures; o++)
            {
                double sum = bias is null || bias.Length == 0 ? 0 : bias[o];
                for (int i = 0; i < s.InFeatures; i++) sum += x[n * s.InFeatures + i] * w[o * s.InFeatures + i];
                y[n * s.OutFeatures + o] = relu ? Math.Max(0, sum) : sum;
            }
        return y;
    }

    /// <summary>C = alpha·op(A)·op(B) + beta·C, row-major; A stored [M,K] or [K,M] when transposed, B [K,N] or [N,K].</summary>
    public static double[] Gemm(int m, int n, int k, double[] a, bool ta, double[] b, bool tb, double[] c, double alpha, double beta)
    {
        var result = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                    sum += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                result[i * n + j] = alpha * sum + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        return result;
    }

    public static double[] Relu(double[] x) => x.Select(v => v > 0 ? v : 0).ToArray();

    /// <summary>The element-wise functions of <see cref="UnaryKind"/> in double.</summary>
    public static double[] Unary(UnarySpec s, double[] x) => x.Select(v => s.Kind switch
    {
        UnaryKind.Tanh => Math.Tanh(v),
        UnaryKind.Exp => Math.Exp(v),
        UnaryKind.Log => Math.Log(v),
        UnaryKind.Sqrt => Math.Sqrt(v),
        UnaryKind.Neg => -v,
        UnaryKind.Abs => Math.Abs(v),
        UnaryKind.Softplus => Math.Log(1 + Math.Exp(v)),
        UnaryKind.LeakyRelu => v > 0 ? v : s.Alpha * v,
        UnaryKind.Silu => v / (1 + Math.Exp(-v)),
        UnaryKind.Clip => Math.Min(Math.Max(v, s.Min), s.Max),
        UnaryKind.Erf => Erf(v),
        UnaryKind.Pow => Math.Pow(v, s.Alpha),
        UnaryKind.Sin => Math.Sin(v),
        UnaryKind.Cos => Math.Cos(v),
        UnaryKind.Affine => s.Alpha * v + s.Min,
        UnaryKind.Gelu => 0.5 * v * (1 + Erf(s.Alpha * v)),
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    }).ToArray();

    /// <summary>erf in double: its Maclaurin series for |x| ≤ 3 (terms to 1e-17), 1 − erfc's continued fraction beyond.</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double result;
        if (z <= 3)
        {
            double term = z, sum = z;
            for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
            {
                term *= -z * z / n;
                sum += term / (2 * n + 1);
            }
            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(z) = e^(−z²)/√π · 1/(z + 1/2/(z + 1/(z + 3/2/(z + …)))) (Lentz-free: evaluated from the tail)
            double f = z;
            for (int k = 60; k >= 1; k--) f = z + k / 2.0 / f;
            result = 1 - Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -result : result;
    }

    public static double[] Sigmoid(double[] x) => x.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();

    public static double[] Multiply(double[] a, double[] b) => a.Zip(b, (p, q) => p * q).ToArray();

    /// <summary>A row op over rows of <paramref name="width"/> (softmax in the stable form; max takes the largest).</summary>
    public static double[] RowOp(RowOpKind kind, double[] x, int width)
    {
        var y = new List<double>();
        for (int o = 0; o < x.Length; o += width)
        {
            var row = x.Skip(o).Take(width).ToArray();
            double max = row.Max(), logSum = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            switch (kind)
            {
                case RowOpKind.Sum: y.Add(row.Sum()); break;
                case RowOpKind.Mean: y.Add(row.Average()); break;
                case RowOpKind.Max: y.Add(max); break;
                case RowOpKind.Softmax: y.AddRange(row.Select(v => Math.Exp(v - logSum))); break;
                default: y.AddRange(row.Select(v => v - logSum)); break;
            }
        }
        return [.. y];
    }

    /// <summary>Per row of <paramref name="width"/>: γ ⊙ (x − μ) / √(σ² + ε) + β, σ² the population variance (as PyTorch).</summary>
    public static double[] LayerNorm(double[] x, int width, double[] gamma, double[] beta, double epsilon)
    {
        var y = new double[x.Length];
        for (int o = 0; o < x.Length; o += width)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < width; i++) mean += x[o + i];
            mean /= width;
            for (int i = 0; i < width; i++) variance += (x[o + i] - mean) * (x[o + i] - mean);
            variance /= width;
            double rstd = 1 / Math.Sqrt(variance + epsilon);
            for (int i = 0; i < width; i++) y[o + i] = gamma[i] * (x[o + i] - mean) * rstd + beta[i];
        }
        return y;
    }

    /// <summary>Max over in-bounds taps (padding never wins); argmax is the flat index into x, first maximum wins.</summary>
    public static (double[] Y, int[] Argmax) MaxPool2d(Pool2dSpec s, int batch, double[] x)
    {
        int oh = s.OutHeight, ow = s.OutWidth;
        var y = new double[batch * s.OutSize];
        var arg = new int[y.Length];
        for (int plane = 0; plane < batch * s.Channels; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double best = double.NegativeInfinity;
                    int at = -1;
                    foreach (var (ih, iw) in Window(s, i, j, includePad: false))
                    {
                        int idx = (plane * s.InHeight + ih) * s.InWidth + iw;
                        if (at < 0 || x[idx] > best) { best = x[idx]; at = idx; }
                    }
                    int o = (plane * oh + i) * ow + j;
                    y[o] = at < 0 ? 0 : best;
                    arg[o] = at;
                }
        return (y, arg);
    }

    public static double[] AvgPool2d(Pool2dSpec s, int batch, double[] x)
    {
        int oh = s.OutHeight, ow = s.OutWidth;
        var y = new double[batch * s.OutSize];
        for (int plane = 0; plane < batch * s.Channels; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    double sum = 0;
                    foreach (var (ih, iw) in Window(s, i, j, includePad: false))
                        sum += x[(plane * s.InHeight + ih) * s.InWidth + iw];
                    int divisor = Window(s, i, j, s.CountIncludePad).Count();
                    y[(plane * oh + i) * ow + j] = divisor == 0 ? 0 : sum / divisor;
                }
        return y;
    }

    /// <summary>
    /// Taps of pooling window (i, j): inside the input, or with <paramref name="includePad"/> inside the padded input
    /// (positions beyond the padding, possible in ceil mode, never count — PyTorch's rule).
    /// </summary>
    public static IEnumerable<(int H, int W)> Window(Pool2dSpec s, int i, int j, bool includePad)
    {
        int loH = includePad ? -s.PadTop : 0, hiH = includePad ? s.InHeight + s.PadBottom : s.InHeight;
        int loW = includePad ? -s.PadLeft : 0, hiW = includePad ? s.InWidth + s.PadRight : s.InWidth;
        for (int kh = 0; kh < s.KernelHeight; kh++)
        {
            int ih = i * s.StrideH - s.PadTop + kh * s.DilationH;
            if (ih < loH || ih >= hiH) continue;
            for (int kw = 0; kw < s.KernelWidth; kw++)
            {
                int iw = j * s.StrideW - s.PadLeft + kw * s.DilationW;
                if (iw < loW || iw >= hiW) continue;
                yield return (ih, iw);
            }
        }
    }

    public static double[] GlobalAvgPool(int batch, int channels, int spatial, double[] x)
    {
        var y = new double[batch * channels];
        for (int r = 0; r < y.Length; r++)
        {
            double sum = 0;
            for (int j = 0; j < spatial; j++) sum += x[r * spatial + j];
            y[r] = sum / spatial;
        }
        return y;
    }

    public static double[] GatherColumns(int batch, double[] x, int xColumns, int[] index, int yColumns)
    {
        var y = new double[batch * yColumns];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < yColumns; j++) y[b * yColumns + j] = x[b * xColumns + index[j]];
        return y;
    }

    public static double[] ScatterColumns(int batch, double[] x, int xColumns, int[] index, int yColumns)
    {
        var y = new double[batch * yColumns];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < xColumns; j++) y[b * yColumns + index[j]] += x[b * xColumns + j];
        return y;
    }

    public static double[] RowSum(int batch, int columns, double[] x)
    {
        var y = new double[batch];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < columns; j++) y[b] += x[b * columns + j];
        return y;
    }

    public static double[] AddRowToEach(int batch, int columns, double[] a, double[] row)
    {
        var y = new double[batch * columns];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < columns; j++) y[b * columns + j] = a[b * columns + j] + row[j];
        return y;
    }

    public static double[] ColumnSum(int batch, int columns, double[] x)
    {
        var y = new double[columns];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < columns; j++) y[j] += x[b * columns + j];
        return y;
    }

    /// <summary>torch.optim.Adam (no weight decay, no amsgrad), step t (1-based), in place.</summary>
    public static void Adam(AdamSpec spec, int t, double[] p, double[] g, double[] m, double[] v)
    {
        double b1 = spec.Beta1, b2 = spec.Beta2;
        double bc1 = 1 - Math.Pow(b1, t), bc2 = 1 - Math.Pow(b2, t);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double denom = Math.Sqrt(v[i]) / Math.Sqrt(bc2) + spec.Epsilon;
            p[i] -= spec.LearningRate / bc1 * m[i] / denom;
        }
    }

    /// <summary>C_i = op(A_i)·op(B_i) for every item, in double.</summary>
    public static double[] BatchedGemm(int count, int m, int n, int k, double[] a, bool ta, double[] b, bool tb)
    {
        var c = new double[count * m * n];
        for (int item = 0; item < count; item++)
        {
            var part = Gemm(m, n, k, a[(item * m * k)..((item + 1) * m * k)], ta, b[(item * k * n)..((item + 1) * k * n)], tb, new double[m * n], 1, 0);
            part.CopyTo(c, item * m * n);
        }
        return c;
    }

    /// <summary>Element tokens by the documented rule, written independently: sort the positive entries by (−value, column), keep the first T, order by column.</summary>
    public static (double[] Tokens, int[] Picked) SelectTokens(int batch, int columns, double[] x, int tokens)
    {
        var y = new double[batch * 2 * tokens];
        var picked = Enumerable.Repeat(-1, batch * tokens).ToArray();
        for (int b = 0; b < batch; b++)
        {
            var kept = Enumerable.Range(0, columns).Where(c => x[b * columns + c] > 0)
                .OrderByDescending(c => x[b * columns + c]).ThenBy(c => c).Take(tokens).Order().ToArray();
            for (int s = 0; s < kept.Length; s++)
            {
                y[b * 2 * tokens + s] = kept[s] + 1;
                y[b * 2 * tokens + tokens + s] = x[b * columns + kept[s]];
                picked[b * tokens + s] = kept[s];
            }
        }
        return (y, picked);
    }

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>d⟨dy, f(x)⟩/dx by central differences of the double reference.</summary>
    public static double[] FiniteDifferenceGradient(Func<double[], double[]> f, double[] x, double[] dy, double h = 1e-5) =>
        [.. Enumerable.Range(0, x.Length).Select(i => PartialDerivative(p => Dot(dy, f(p)), x, i, h))];

    /// <summary>∂f/∂x_i by the central difference (f(x + h·e_i) − f(x − h·e_i)) / 2h; every gradient check uses this one.</summary>
    public static double PartialDerivative(Func<double[], double> f, double[] x, int i, double h = 1e-5)
    {
        var probe = (double[])x.Clone();
        probe[i] = x[i] + h;
        double plus = f(probe);
        probe[i] = x[i] - h;
        double minus = f(probe);
        return (plus - minus) / (2 * h);
    }
}
