namespace Kiago.Kernels;

// Shapes of the engine's ops. Activations are NCHW float32, contiguous, batch first (as ONNX and PyTorch).
// Weights are frozen: a backend prepares (packs, prunes, uploads) them once and reuses them every step.

/// <summary>2-D convolution without the batch size. Weight layout [Cout, Cin/Groups, KH, KW] (ONNX/PyTorch).</summary>
public sealed record Conv2dSpec(
    int InChannels, int InHeight, int InWidth,
    int OutChannels, int KernelHeight, int KernelWidth,
    int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1,
    int Groups = 1)
{
    public int OutHeight => (InHeight + PadTop + PadBottom - DilationH * (KernelHeight - 1) - 1) / StrideH + 1;
    public int OutWidth => (InWidth + PadLeft + PadRight - DilationW * (KernelWidth - 1) - 1) / StrideW + 1;
    public int InSize => InChannels * InHeight * InWidth;
    public int OutSize => OutChannels * OutHeight * OutWidth;
    public int WeightCount => OutChannels * (InChannels / Groups) * KernelHeight * KernelWidth;
}

/// <summary>Max or average pooling over NCHW maps, without the batch size.</summary>
public sealed record Pool2dSpec(
    int Channels, int InHeight, int InWidth,
    int KernelHeight, int KernelWidth,
    int StrideH, int StrideW,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationH = 1, int DilationW = 1,
    bool CountIncludePad = false, bool CeilMode = false)
{
    public int OutHeight => OutExtent(InHeight, PadTop + PadBottom, DilationH * (KernelHeight - 1) + 1, StrideH, PadTop);
    public int OutWidth => OutExtent(InWidth, PadLeft + PadRight, DilationW * (KernelWidth - 1) + 1, StrideW, PadLeft);
    public int InSize => Channels * InHeight * InWidth;
    public int OutSize => Channels * OutHeight * OutWidth;

    int OutExtent(int input, int pads, int window, int stride, int padBegin)
    {
        int span = input + pads - window;
        int count = (CeilMode ? (span + stride - 1) / stride : span / stride) + 1;
        // ONNX/PyTorch rule: in ceil mode the last window must start inside the input or the leading padding.
        if (CeilMode && (count - 1) * stride >= input + padBegin) count--;
        return count;
    }
}

/// <summary>Fully connected layer y = x·Wᵀ + b. Weight layout [Out, In] (ONNX Gemm with transB=1, PyTorch Linear).</summary>
public sealed record LinearSpec(int InFeatures, int OutFeatures);

/// <summary>The row functions of <see cref="IBackend.RowOp"/> over the last axis.</summary>
public enum RowOpKind
{
    /// <summary>y = e^(x − max) / Σ e^(x − max) (width kept); dx = y ⊙ (dy − Σ dy ⊙ y).</summary>
    Softmax,
    /// <summary>y = x − max − ln Σ e^(x − max) (width kept); dx = dy − softmax(x) · Σ dy.</summary>
    LogSoftmax,
    /// <summary>y = Σ x (width 1); dx = dy.</summary>
    Sum,
    /// <summary>y = Σ x / W (width 1); dx = dy / W.</summary>
    Mean,
    /// <summary>y = max x (width 1); dx = dy at the first maximum, 0 elsewhere (as PyTorch's max).</summary>
    Max,
}

/// <summary>A <see cref="RowOpKind"/> over rows of <see cref="Width"/> values (the last axis).</summary>
public sealed record RowOpSpec
{
    public RowOpSpec(RowOpKind kind, long rows, int width)
    {
        if (rows < 0 || width < 1) throw new ShapeException($"{kind}: {rows} rows of width {width}; rows must be ≥ 0 and the width ≥ 1");
        Kind = kind;
        Rows = rows;
        Width = width;
    }

    public RowOpKind Kind { get; }
    public long Rows { get; }
    public int Width { get; }
    /// <summary>Values per output row: the width for Softmax/LogSoftmax, 1 for the reductions.</summary>
    public int OutWidth => Kind is RowOpKind.Softmax or RowOpKind.LogSoftmax ? Width : 1;
    public long Count => Rows * Width;
    public long OutCount => Rows * OutWidth;

    /// <summary>
    /// Row r of the op (x at <paramref name="xOffset"/>, y at <paramref name="yOffset"/>), written once for both backends
    /// through <typeparamref name="TView"/> (a span-like accessor).
    /// </summary>
    public static void Forward<TView>(RowOpKind kind, TView x, int xOffset, TView y, int yOffset, int width) where TView : struct, IFloatView
    {
        switch (kind)
        {
            case RowOpKind.Sum:
            case RowOpKind.Mean:
            {
                float sum = 0f;
                for (int i = 0; i < width; i++) sum += x.Get(xOffset + i);
                y.Set(yOffset, kind == RowOpKind.Mean ? sum / width : sum);
                return;
            }
            case RowOpKind.Max:
            {
                float best = x.Get(xOffset);
                for (int i = 1; i < width; i++) best = MathF.Max(best, x.Get(xOffset + i));
                y.Set(yOffset, best);
                return;
            }
            default:
            {
                float max = x.Get(xOffset);
                for (int i = 1; i < width; i++) max = MathF.Max(max, x.Get(xOffset + i));
                float sum = 0f;
                for (int i = 0; i < width; i++) sum += MathF.Exp(x.Get(xOffset + i) - max);
                if (kind == RowOpKind.Softmax)
                    for (int i = 0; i < width; i++) y.Set(yOffset + i, MathF.Exp(x.Get(xOffset + i) - max) / sum);
                else
                {
                    float log = MathF.Log(sum);
                    for (int i = 0; i < width; i++) y.Set(yOffset + i, x.Get(xOffset + i) - max - log);
                }
                return;
            }
        }
    }

    /// <summary>The input gradient of row r from the kept input x, output y and dy (offsets as <see cref="Forward{TView}"/>).</summary>
    public static void Backward<TView>(RowOpKind kind, TView x, int xOffset, TView y, TView dy, int yOffset, TView dx, int width)
        where TView : struct, IFloatView
    {
        switch (kind)
        {
            case RowOpKind.Sum:
            case RowOpKind.Mean:
            {
                float g = kind == RowOpKind.Mean ? dy.Get(yOffset) / width : dy.Get(yOffset);
                for (int i = 0; i < width; i++) dx.Set(xOffset + i, g);
                return;
            }
            case RowOpKind.Max:
            {
                float best = y.Get(yOffset);
                int first = width;
                for (int i = 0; i < width; i++)
                {
                    bool winner = first == width && x.Get(xOffset + i) == best;
                    if (winner) first = i;
                    dx.Set(xOffset + i, winner ? dy.Get(yOffset) : 0f);
                }
                return;
            }
            case RowOpKind.Softmax:
            {
                float dot = 0f;
                for (int i = 0; i < width; i++) dot += dy.Get(yOffset + i) * y.Get(yOffset + i);
                for (int i = 0; i < width; i++) dx.Set(xOffset + i, y.Get(yOffset + i) * (dy.Get(yOffset + i) - dot));
                return;
            }
            default:
            {
                float sum = 0f;
                for (int i = 0; i < width; i++) sum += dy.Get(yOffset + i);
                for (int i = 0; i < width; i++) dx.Set(xOffset + i, dy.Get(yOffset + i) - MathF.Exp(y.Get(yOffset + i)) * sum);
                return;
            }
        }
    }
}

/// <summary>Element access both backends implement (a float[] on the CPU, an ArrayView on ILGPU), so a row op is written once.</summary>
public interface IFloatView
{
    float Get(int index);
    void Set(int index, float value);
}

/// <summary>Layer normalisation of <paramref name="Rows"/> rows of <paramref name="Width"/> values (the last axis) with ε.</summary>
public sealed record LayerNormSpec
{
    public LayerNormSpec(long rows, int width, float epsilon)
    {
        if (rows < 0 || width < 1) throw new ShapeException($"LayerNorm: {rows} rows of width {width}; rows must be ≥ 0 and the width ≥ 1");
        if (!(epsilon >= 0) || float.IsInfinity(epsilon)) throw new ShapeException($"LayerNorm: epsilon {epsilon} must be finite and ≥ 0");
        Rows = rows;
        Width = width;
        Epsilon = epsilon;
    }

    public long Rows { get; }
    public int Width { get; }
    public float Epsilon { get; }
    public long Count => Rows * Width;

    /// <summary>Row r (at <paramref name="offset"/>) of the forward, written once for both backends.</summary>
    public static void Forward<TView>(TView x, TView gamma, TView beta, TView y, int offset, int width, float epsilon) where TView : struct, IFloatView
    {
        var (mean, rstd) = Statistics(x, offset, width, epsilon);
        for (int i = 0; i < width; i++) y.Set(offset + i, gamma.Get(i) * ((x.Get(offset + i) - mean) * rstd) + beta.Get(i));
    }

    /// <summary>
    /// Row r of the input gradient: dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂)), g = dy ⊙ γ, μ and r recomputed. The two
    /// sums use <see cref="Statistics{TView}"/>'s eight interleaved partial sums (the 8 lanes of <c>Cpu/LayerNorm.cs</c>).
    /// </summary>
    public static void Backward<TView>(TView x, TView gamma, TView dy, TView dx, int offset, int width, float epsilon) where TView : struct, IFloatView
    {
        var (mean, rstd) = Statistics(x, offset, width, epsilon);
        float g0 = 0f, g1 = 0f, g2 = 0f, g3 = 0f, g4 = 0f, g5 = 0f, g6 = 0f, g7 = 0f;
        float h0 = 0f, h1 = 0f, h2 = 0f, h3 = 0f, h4 = 0f, h5 = 0f, h6 = 0f, h7 = 0f;
        int blocks = width / 8 * 8, i = 0;
        for (; i < blocks; i += 8)
        {
            int o = offset + i;
            float a0 = dy.Get(o) * gamma.Get(i), a1 = dy.Get(o + 1) * gamma.Get(i + 1), a2 = dy.Get(o + 2) * gamma.Get(i + 2), a3 = dy.Get(o + 3) * gamma.Get(i + 3);
            float a4 = dy.Get(o + 4) * gamma.Get(i + 4), a5 = dy.Get(o + 5) * gamma.Get(i + 5), a6 = dy.Get(o + 6) * gamma.Get(i + 6), a7 = dy.Get(o + 7) * gamma.Get(i + 7);
            g0 += a0; g1 += a1; g2 += a2; g3 += a3; g4 += a4; g5 += a5; g6 += a6; g7 += a7;
            h0 += a0 * ((x.Get(o) - mean) * rstd); h1 += a1 * ((x.Get(o + 1) - mean) * rstd);
            h2 += a2 * ((x.Get(o + 2) - mean) * rstd); h3 += a3 * ((x.Get(o + 3) - mean) * rstd);
            h4 += a4 * ((x.Get(o + 4) - mean) * rstd); h5 += a5 * ((x.Get(o + 5) - mean) * rstd);
            h6 += a6 * ((x.Get(o + 6) - mean) * rstd); h7 += a7 * ((x.Get(o + 7) - mean) * rstd);
        }
        for (; i < width; i++)
        {
            float g = dy.Get(offset + i) * gamma.Get(i);
            g0 += g;
            h0 += g * ((x.Get(offset + i) - mean) * rstd);
        }
        float meanG = Combine(g0, g1, g2, g3, g4, g5, g6, g7) / width, meanGx = Combine(h0, h1, h2, h3, h4, h5, h6, h7) / width;
        for (i = 0; i < width; i++)
            dx.Set(offset + i, rstd * (dy.Get(offset + i) * gamma.Get(i) - meanG - (x.Get(offset + i) - mean) * rstd * meanGx));
    }

    /// <summary>
    /// The row's mean and 1/√(variance + ε), the variance taken of the deviations (two passes: no cancellation). Eight
    /// interleaved partial sums (entry i goes to sum i mod 8; the last width mod 8 entries to sum 0, in order), added
    /// as ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)): independent chains, the lanes of one 8-wide vector on the
    /// CPU (<c>Cpu/LayerNorm.cs</c>), the same order and bits on every backend.
    /// </summary>
    public static (float Mean, float Rstd) Statistics<TView>(TView x, int offset, int width, float epsilon) where TView : struct, IFloatView
    {
        // eight locals, not a span: the same code runs inside ILGPU kernels
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int blocks = width / 8 * 8, i = 0;
        for (; i < blocks; i += 8)
        {
            int o = offset + i;
            s0 += x.Get(o); s1 += x.Get(o + 1); s2 += x.Get(o + 2); s3 += x.Get(o + 3);
            s4 += x.Get(o + 4); s5 += x.Get(o + 5); s6 += x.Get(o + 6); s7 += x.Get(o + 7);
        }
        for (; i < width; i++) s0 += x.Get(offset + i);
        float mean = Combine(s0, s1, s2, s3, s4, s5, s6, s7) / width;
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0f;
        for (i = 0; i < blocks; i += 8)
        {
            int o = offset + i;
            float d0 = x.Get(o) - mean, d1 = x.Get(o + 1) - mean, d2 = x.Get(o + 2) - mean, d3 = x.Get(o + 3) - mean;
            float d4 = x.Get(o + 4) - mean, d5 = x.Get(o + 5) - mean, d6 = x.Get(o + 6) - mean, d7 = x.Get(o + 7) - mean;
            s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
            s4 += d4 * d4; s5 += d5 * d5; s6 += d6 * d6; s7 += d7 * d7;
        }
        for (; i < width; i++)
        {
            float d = x.Get(offset + i) - mean;
            s0 += d * d;
        }
        return (mean, Rstd(Combine(s0, s1, s2, s3, s4, s5, s6, s7), width, epsilon));
    }

    /// <summary>The fixed order in which the eight partial sums are added.</summary>
    public static float Combine(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7) =>
        ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));

    public static float Rstd(float sumOfSquares, int width, float epsilon) => 1f / MathF.Sqrt(sumOfSquares / width + epsilon);
}

/// <summary>Adam hyper-parameters (PyTorch defaults except the learning rate, which KIAGO sets).</summary>
public sealed record AdamSpec(float LearningRate, float Beta1 = 0.9f, float Beta2 = 0.999f, float Epsilon = 1e-8f);

/// <summary>The element-wise functions of <see cref="IBackend.Unary"/> (ONNX names; derivatives as PyTorch's autograd).</summary>
public enum UnaryKind
{
    /// <summary>tanh x; d = 1 − y².</summary>
    Tanh,
    /// <summary>eˣ; d = y.</summary>
    Exp,
    /// <summary>ln x; d = 1/x.</summary>
    Log,
    /// <summary>√x; d = 1/(2y).</summary>
    Sqrt,
    /// <summary>−x; d = −1.</summary>
    Neg,
    /// <summary>|x|; d = sign x (0 at 0).</summary>
    Abs,
    /// <summary>ln(1 + eˣ), computed as max(x, 0) + ln(1 + e^(−|x|)); d = σ(x).</summary>
    Softplus,
    /// <summary>x if x &gt; 0 else α·x; d = 1 or α.</summary>
    LeakyRelu,
    /// <summary>min(max(x, lo), hi); d = 1 where lo ≤ x ≤ hi, else 0.</summary>
    Clip,
    /// <summary>erf x (<see cref="UnarySpec.Erf"/>, absolute error ≤ 1.2e-7); d = 2/√π · e^(−x²). GELU's exact form uses it.</summary>
    Erf,
    /// <summary>x^α for a constant exponent α (ONNX Pow with a constant exponent); d = α · x^(α−1).</summary>
    Pow,
    /// <summary>sin x; d = cos x (sinusoidal time and position embeddings).</summary>
    Sin,
    /// <summary>cos x; d = −sin x.</summary>
    Cos,
    /// <summary>SiLU x·σ(x), σ(x) = 1/(1 + e^(−x)) (the graph executor fuses ONNX's x * Sigmoid(x) into it); d = σ·(1 + x·(1 − σ)).</summary>
    Silu,
    /// <summary>α·x + β, the shift β carried in the <see cref="UnarySpec.Min"/> slot (<see cref="UnarySpec.Affine"/>); d = α. A scalar scale or shift of a tensor that is neither a vector nor a map (attention's 1/√d, GELU's 0.5·x and 1 + erf).</summary>
    Affine,
    /// <summary>
    /// GELU, exact form, as torch exports it: ½·(x·(erf(α·x) + 1)) with α the export's 1/√2 (the graph executor fuses
    /// Div, Erf, Add, Mul, Mul into it); d = ½·(erf(α·x) + 1) + ½·x·α·2/√π·e^(−α²x²).
    /// </summary>
    Gelu,
}

/// <summary>One element-wise function and its parameters (<see cref="Alpha"/> for LeakyRelu and Pow's exponent, the bounds for Clip).</summary>
public readonly record struct UnarySpec(UnaryKind Kind, float Alpha = 0.01f, float Min = float.NegativeInfinity, float Max = float.PositiveInfinity)
{
    /// <summary>x^α with the exponents exporters write (−2, −1, 2, 3: a Div's reciprocal, variance, tanh-GELU) as products, else MathF.Pow.</summary>
    public static float Power(float x, float alpha) => alpha switch
    {
        -1f => 1f / x,
        -2f => 1f / (x * x),
        0f => 1f,
        1f => x,
        2f => x * x,
        3f => x * x * x,
        _ => MathF.Pow(x, alpha),
    };

    /// <summary>y = scale·x + shift (<see cref="UnaryKind.Affine"/>).</summary>
    public static UnarySpec Affine(float scale, float shift) => new(UnaryKind.Affine, scale, shift, 0f);

    /// <summary>f(x), the one scalar definition both backends follow.</summary>
    public static float Forward(UnaryKind kind, float x, float alpha, float min, float max) => kind switch
    {
        UnaryKind.Tanh => MathF.Tanh(x),
        UnaryKind.Exp => MathF.Exp(x),
        UnaryKind.Log => MathF.Log(x),
        UnaryKind.Sqrt => MathF.Sqrt(x),
        UnaryKind.Neg => -x,
        UnaryKind.Abs => MathF.Abs(x),
        UnaryKind.Softplus => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x))),
        UnaryKind.LeakyRelu => x > 0f ? x : alpha * x,
        UnaryKind.Erf => Erf(x),
        UnaryKind.Pow => Power(x, alpha),
        UnaryKind.Sin => MathF.Sin(x),
        UnaryKind.Cos => MathF.Cos(x),
        UnaryKind.Silu => x * (1f / (1f + MathF.Exp(-x))),
        UnaryKind.Affine => alpha * x + min,
        UnaryKind.Gelu => 0.5f * (x * (Erf(alpha * x) + 1f)),
        _ => MathF.Min(MathF.Max(x, min), max),
    };

    /// <summary>f′ at x (y = f(x)), the one scalar definition both backends follow.</summary>
    public static float Derivative(UnaryKind kind, float x, float y, float alpha, float min, float max) => kind switch
    {
        UnaryKind.Tanh => 1f - y * y,
        UnaryKind.Exp => y,
        UnaryKind.Log => 1f / x,
        UnaryKind.Sqrt => 0.5f / y,
        UnaryKind.Neg => -1f,
        UnaryKind.Abs => x > 0f ? 1f : x < 0f ? -1f : 0f,
        UnaryKind.Softplus => 1f / (1f + MathF.Exp(-x)),
        UnaryKind.LeakyRelu => x > 0f ? 1f : alpha,
        UnaryKind.Erf => 1.1283791670955126f * MathF.Exp(-x * x),
        UnaryKind.Pow => alpha * Power(x, alpha - 1f),
        UnaryKind.Sin => MathF.Cos(x),
        UnaryKind.Cos => -MathF.Sin(x),
        UnaryKind.Silu => SiluDerivative(x, 1f / (1f + MathF.Exp(-x))),
        UnaryKind.Affine => alpha,
        UnaryKind.Gelu => GeluDerivative(x, alpha, Erf(alpha * x), MathF.Exp(-(alpha * x) * (alpha * x))),
        _ => x >= min && x <= max ? 1f : 0f,
    };

    /// <summary>d/dx x·σ(x) from x and σ(x).</summary>
    public static float SiluDerivative(float x, float sigmoid) => sigmoid * (1f + x * (1f - sigmoid));

    /// <summary>GELU′ from erf(αx) and e^(−(αx)²), computed by the caller's erf and exp.</summary>
    public static float GeluDerivative(float x, float alpha, float erf, float gauss) =>
        0.5f * (erf + 1f) + 0.5f * x * alpha * TwoOverSqrtPi * gauss;

    /// <summary>2/√π, erf's derivative at 0.</summary>
    public const float TwoOverSqrtPi = 1.1283791670955126f;

    /// <summary>
    /// erf x: its Maclaurin series below 0.5, the Chebyshev fit of erfc above (Numerical Recipes' erfcc: fractional
    /// error &lt; 1.2e-7), written
    /// once for both backends (.NET has no MathF.Erf and the GPU's would differ).
    /// </summary>
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        if (z < 0.5f)
        {
            // near 0 the Maclaurin series (to x¹⁵, error < 1e-9): exactly odd and exactly 0 at 0
            float x2 = x * x;
            return 1.1283791670955126f * x * (1f + x2 * (-1f / 3f + x2 * (1f / 10f + x2 * (-1f / 42f + x2 * (1f / 216f
                + x2 * (-1f / 1320f + x2 * (1f / 9360f + x2 * (-1f / 75600f))))))));
        }
        float t = 1f / (1f + 0.5f * z);
        float erfc = t * MathF.Exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
            + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
        return x >= 0f ? 1f - erfc : erfc - 1f;
    }
}
