using Kiago.Kernels;

namespace Kiago.Tests.Kernels;

/// <summary>
/// Every op of <see cref="IBackend"/>, written once: forward vs the double reference (<see cref="ReferenceOps"/>),
/// backward vs finite differences of the reference and vs directional differences of the backend's own forward.
/// A backend gets the whole suite by deriving and implementing <see cref="CreateBackend"/>. Sizes are small so
/// slow backends (ILGPU's CPU accelerator) finish in seconds; <see cref="ReducedSizes"/> drops the largest cases.
/// </summary>
public abstract partial class BackendOpTests : IDisposable
{
    protected BackendOpTests() => Backend = CreateBackend();

    protected IBackend Backend { get; }

    protected abstract IBackend CreateBackend();

    /// <summary>Called once per test; override to keep a shared backend alive.</summary>
    protected virtual void ReleaseBackend(IBackend backend) => backend.Dispose();

    /// <summary>True skips the cases sized to exercise blocking and threading (multi-block GEMM, many-sample conv).</summary>
    protected virtual bool ReducedSizes => false;

    public void Dispose()
    {
        ReleaseBackend(Backend);
        GC.SuppressFinalize(this);
    }

    // ---- the one helper: forward vs reference, gradient vs finite differences ----------------------------------

    /// <summary>
    /// Checks y = f(x) against <paramref name="reference"/>; then, when <paramref name="backward"/> is given,
    /// dx = backward(dy) against central differences of ⟨dy, reference(x)⟩ (double) and against directional
    /// differences ⟨dy, f(x ± εv)⟩ of the backend's own forward.
    /// </summary>
    protected void CheckOp(string op, double[] x, int outputLength, Func<double[], double[]> reference,
        Action<DeviceBuffer<float>, DeviceBuffer<float>> forward,
        Action<DeviceBuffer<float>, DeviceBuffer<float>, DeviceBuffer<float>, DeviceBuffer<float>>? backward = null,
        double tolerance = 1e-4, int seed = 7)
    {
        x = RoundToFloat(x);
        using var xb = Upload(x);
        using var yb = Backend.Allocate<float>(outputLength);
        forward(xb, yb);
        var y = Download(yb, outputLength);
        var expected = reference(x);
        Assert.Equal(expected.Length, outputLength);
        AssertClose($"{op} forward", expected, y, tolerance);
        if (backward is null) return;

        var dy = RoundToFloat(Random(outputLength, seed + 1));
        using var dyb = Upload(dy);
        using var dxb = Backend.Allocate<float>(x.Length);
        Backend.Fill(dxb, float.NaN, x.Length); // backward must overwrite every element
        backward(xb, yb, dyb, dxb);
        var dx = Download(dxb, x.Length);

        // (1) vs finite differences of the double reference (48 random coordinates when x is large).
        var rng = new Random(seed + 2);
        int[] coords = x.Length <= 96
            ? Enumerable.Range(0, x.Length).ToArray()
            : Enumerable.Range(0, 48).Select(_ => rng.Next(x.Length)).ToArray();
        var probe = (double[])x.Clone();
        double scale = Math.Max(1e-3, dx.Max(Math.Abs));
        foreach (int i in coords)
        {
            const double h = 1e-5;
            probe[i] = x[i] + h;
            double plus = ReferenceOps.Dot(dy, reference(probe));
            probe[i] = x[i] - h;
            double minus = ReferenceOps.Dot(dy, reference(probe));
            probe[i] = x[i];
            double fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(fd - dx[i]) <= 1e-3 * scale,
                $"{op} backward: dx[{i}] = {dx[i]} but finite differences of the reference give {fd}");
        }

        // (2) vs the backend's own forward, along random directions.
        for (int trial = 0; trial < 2; trial++)
        {
            var v = Random(x.Length, seed + 10 + trial);
            const double eps = 1e-3;
            using var xp = Upload(x.Zip(v, (a, b) => a + eps * b).ToArray());
            using var xm = Upload(x.Zip(v, (a, b) => a - eps * b).ToArray());
            using var yp = Backend.Allocate<float>(outputLength);
            using var ym = Backend.Allocate<float>(outputLength);
            forward(xp, yp);
            forward(xm, ym);
            double directional = (ReferenceOps.Dot(dy, Download(yp, outputLength)) - ReferenceOps.Dot(dy, Download(ym, outputLength))) / (2 * eps);
            double analytic = ReferenceOps.Dot(dx, v);
            double bound = 3e-2 * Math.Sqrt(ReferenceOps.Dot(dx, dx) * ReferenceOps.Dot(v, v)) + 1e-4;
            Assert.True(Math.Abs(directional - analytic) <= bound,
                $"{op} backward: ⟨dx, v⟩ = {analytic} but the backend's forward gives {directional} (bound {bound})");
        }
    }

    // ---- GEMM ------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, false, 1f, 0f)]
    [InlineData(false, true, 1f, 0f)]
    [InlineData(true, false, 1.5f, 0.5f)]
    [InlineData(true, true, -0.75f, 1f)]
    public void Gemm_matches_reference_for_every_transpose(bool ta, bool tb, float alpha, float beta)
    {
        CheckGemm(7, 19, 13, ta, tb, alpha, beta);
        CheckGemm(1, 1, 1, ta, tb, alpha, beta);
        CheckGemm(12, 32, 5, ta, tb, alpha, beta);
        if (!ReducedSizes) CheckGemm(100, 37, 700, ta, tb, alpha, beta);
    }

    void CheckGemm(int m, int n, int k, bool ta, bool tb, float alpha, float beta)
    {
        var a = RoundToFloat(Random(m * k, 1));
        var b = RoundToFloat(Random(k * n, 2));
        var c = RoundToFloat(Random(m * n, 3));
        using var ab = Upload(a);
        using var bb = Upload(b);
        using var cb = Upload(c);
        Backend.Gemm(m, n, k, ab, ta, bb, tb, cb, alpha, beta);
        AssertClose($"Gemm {m}x{n}x{k} ta={ta} tb={tb}", ReferenceOps.Gemm(m, n, k, a, ta, b, tb, c, alpha, beta),
            Download(cb, m * n), 1e-4 * Math.Sqrt(k));
    }

    // ---- convolution -----------------------------------------------------------------------------------------

    public sealed record ConvCase(string Name, Conv2dSpec Spec, int Batch, bool Bias = true, bool Relu = false, bool Large = false)
    {
        public override string ToString() => Name;
    }

    public static readonly ConvCase[] ConvCases =
    [
        new("3x3 pad 1", new Conv2dSpec(3, 5, 6, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2),
        new("3x3 pad 1 fused relu", new Conv2dSpec(3, 5, 6, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2, Relu: true),
        new("7x7 stride 2 pad 3 (stem)", new Conv2dSpec(4, 7, 12, 5, 7, 7, 2, 2, 3, 3, 3, 3), 2),
        new("1x1 stride 2 projection, no bias", new Conv2dSpec(4, 4, 6, 6, 1, 1, 2, 2), 2, Bias: false),
        new("3x3 dilation 2", new Conv2dSpec(2, 7, 7, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2), 2),
        new("3x3 groups 2", new Conv2dSpec(4, 5, 5, 6, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 2), 2),
        new("3x3 depthwise", new Conv2dSpec(3, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 3), 2),
        new("2x3 stride 1x2 asymmetric pads", new Conv2dSpec(2, 4, 5, 3, 2, 3, 1, 2, PadTop: 0, PadLeft: 2, PadBottom: 1, PadRight: 0), 2),
        new("3x3 on a 1x1 map", new Conv2dSpec(8, 1, 1, 5, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 3),
        new("3x3 on a 1x2 map, relu", new Conv2dSpec(6, 1, 2, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 3, Relu: true),
        new("3x3 stride 2 on a 1x2 map", new Conv2dSpec(6, 1, 2, 4, 3, 3, 2, 2, 1, 1, 1, 1), 3),
        new("3x3 stride 2 on a 2x8 map", new Conv2dSpec(5, 2, 8, 4, 3, 3, 2, 2, 1, 1, 1, 1), 2),
        new("5x5 dilation 2 pad 4 on a 2x2 map", new Conv2dSpec(3, 2, 2, 2, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2), 2),
        new("40 channels (two K blocks, two panels)", new Conv2dSpec(40, 3, 4, 20, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2, Large: true),
        new("ResNet stem 7x7/2 on 4x7x32, relu", new Conv2dSpec(4, 7, 32, 16, 7, 7, 2, 2, 3, 3, 3, 3), 2, Relu: true),
        new("ResNet layer1 3x3 on 2x8, 3 row-class samples", new Conv2dSpec(16, 2, 8, 20, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 3, Relu: true),
        new("3x3 on 5x4: top, middle, bottom row classes", new Conv2dSpec(3, 5, 4, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2),
        new("3x3 pad 2 top only: a row class that reads nothing", new Conv2dSpec(2, 2, 3, 3, 3, 3, PadTop: 4, PadLeft: 1, PadBottom: 0, PadRight: 1), 2),
        new("ResNet layer3 3x3 on 1x2, 13 samples: column classes, ragged block", new Conv2dSpec(24, 1, 2, 20, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 13, Relu: true),
        new("9 samples (parallel blocks)", new Conv2dSpec(4, 7, 12, 8, 3, 3, 2, 2, 1, 1, 1, 1), 9, Relu: true, Large: true),
    ];

    public static TheoryData<string> ConvCaseNames => new(ConvCases.Select(c => c.Name));

    [SkippableTheory]
    [MemberData(nameof(ConvCaseNames))]
    public void Conv2d_forward_and_input_gradient(string name)
    {
        var c = ConvCases.Single(k => k.Name == name);
        Skip.If(c.Large && ReducedSizes, $"{name}: too large for this backend's test run (ReducedSizes); covered on the SIMD CPU backend");
        var s = c.Spec;
        var w = RoundToFloat(Random(s.WeightCount, 20, 0.5));
        var b = c.Bias ? RoundToFloat(Random(s.OutChannels, 21)) : null;
        using var conv = Backend.PrepareConv2d(s, ToFloat(w), b is null ? [] : ToFloat(b));
        Assert.Equal(s, conv.Spec);
        int inLength = c.Batch * s.InSize, outLength = c.Batch * s.OutSize;
        using var scratch = Backend.Allocate<float>(outLength);
        CheckOp($"Conv2d {name}", Random(inLength, 22), outLength,
            x => ReferenceOps.Conv2d(s, c.Batch, x, w, b, c.Relu),
            (x, y) => conv.Forward(c.Batch, x, y, c.Relu),
            (x, y, dy, dx) =>
            {
                if (c.Relu && conv is IReluMaskedBackward masked) masked.BackwardInputMasked(c.Batch, y, dy, dx);
                else if (c.Relu)
                {
                    Backend.ReluBackward(y, dy, scratch, outLength);
                    conv.BackwardInput(c.Batch, scratch, dx);
                }
                else conv.BackwardInput(c.Batch, dy, dx);
            }, tolerance: 1e-4 * Math.Sqrt(s.WeightCount / s.OutChannels));
        if (conv is IReluMaskedBackward fused) CheckMaskedBackwardIsExact(c, conv, fused);
    }

    /// <summary>The fused-mask input backward gives the same bytes as ReluBackward followed by BackwardInput.</summary>
    void CheckMaskedBackwardIsExact(ConvCase c, IConv2d conv, IReluMaskedBackward fused)
    {
        var s = c.Spec;
        int inLength = c.Batch * s.InSize, outLength = c.Batch * s.OutSize;
        using var x = Upload(Random(inLength, 23));
        using var y = Backend.Allocate<float>(outLength);
        using var dy = Upload(Random(outLength, 24));
        using var masked = Backend.Allocate<float>(outLength);
        using var dxTwoStep = Backend.Allocate<float>(inLength);
        using var dxFused = Backend.Allocate<float>(inLength);
        conv.Forward(c.Batch, x, y, fuseRelu: true);
        Backend.ReluBackward(y, dy, masked, outLength);
        conv.BackwardInput(c.Batch, masked, dxTwoStep);
        fused.BackwardInputMasked(c.Batch, y, dy, dxFused);
        var want = new float[inLength];
        var got = new float[inLength];
        Backend.Download<float>(dxTwoStep, want);
        Backend.Download<float>(dxFused, got);
        Assert.Equal(want, got);
    }

    // ---- linear --------------------------------------------------------------------------------------------

    [SkippableTheory]
    [InlineData(13, 21, 5, true, false)]
    [InlineData(13, 21, 5, false, true)]
    [InlineData(1, 1, 1, true, false)]
    [InlineData(86, 40, 7, true, true)]
    [InlineData(400, 37, 100, true, true)]
    public void Linear_forward_and_input_gradient(int inFeatures, int outFeatures, int batch, bool bias, bool relu)
    {
        Skip.If(inFeatures * outFeatures * batch > 100_000 && ReducedSizes,
            $"Linear {inFeatures}->{outFeatures} × {batch}: too large for this backend's test run (ReducedSizes); covered on the SIMD CPU backend");
        var spec = new LinearSpec(inFeatures, outFeatures);
        var w = RoundToFloat(Random(inFeatures * outFeatures, 30, 1.0 / Math.Sqrt(inFeatures)));
        var b = bias ? RoundToFloat(Random(outFeatures, 31)) : null;
        using var linear = Backend.PrepareLinear(spec, ToFloat(w), b is null ? [] : ToFloat(b));
        Assert.Equal(spec, linear.Spec);
        using var scratch = Backend.Allocate<float>(batch * outFeatures);
        CheckOp($"Linear {inFeatures}->{outFeatures}", Random(batch * inFeatures, 32), batch * outFeatures,
            x => ReferenceOps.Linear(spec, batch, x, w, b, relu),
            (x, y) => linear.Forward(batch, x, y, relu),
            (x, y, dy, dx) =>
            {
                if (relu)
                {
                    Backend.ReluBackward(y, dy, scratch, batch * outFeatures);
                    linear.BackwardInput(batch, scratch, dx);
                }
                else linear.BackwardInput(batch, dy, dx);
            }, tolerance: 1e-4 * Math.Sqrt(inFeatures));
    }

    // ---- elementwise ---------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(70_001)]
    public void Relu_forward_and_gradient(int count)
    {
        if (count > 1000 && ReducedSizes) count = 1000;
        // Keep inputs away from the kink so finite differences are exact.
        var x = Random(count, 40).Select(v => v + 0.05 * Math.Sign(v)).ToArray();
        CheckOp("Relu", x, count, ReferenceOps.Relu,
            (xb, yb) => Backend.Relu(xb, yb, count),
            (xb, yb, dy, dx) => Backend.ReluBackward(yb, dy, dx, count));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(70_001)]
    public void Sigmoid_forward_and_gradient(int count)
    {
        if (count > 1000 && ReducedSizes) count = 1000;
        var x = Random(count, 41).Select(v => 6 * v).ToArray(); // −6 … 6: both tails and the middle
        CheckOp("Sigmoid", x, count, ReferenceOps.Sigmoid,
            (xb, yb) => Backend.Sigmoid(xb, yb, count),
            (xb, yb, dy, dx) => Backend.SigmoidBackward(yb, dy, dx, count), tolerance: 1e-6);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(70_001)]
    public void Multiply_forward_and_gradient(int count)
    {
        if (count > 1000 && ReducedSizes) count = 1000;
        var a = Random(count, 44);
        var b = RoundToFloat(Random(count, 45).Select(v => 2 * v).ToArray());
        using var bb = Upload(b);
        // the gradient with respect to a is dy ⊙ b: the same op (with respect to b likewise, by symmetry)
        CheckOp("Multiply", a, count, v => ReferenceOps.Multiply(v, b),
            (xb, yb) => Backend.Multiply(xb, bb, yb, count),
            (xb, yb, dy, dx) => Backend.Multiply(dy, bb, dx, count), tolerance: 1e-6);
    }

    [Theory]
    [InlineData(3, 1)]     // one value per row: y = β, dx = 0
    [InlineData(4, 5)]
    [InlineData(7, 32)]
    [InlineData(2, 300)]
    [InlineData(1031, 16)] // rows spread over the threads
    public void LayerNorm_forward_and_gradient(int rows, int width)
    {
        var spec = new LayerNormSpec(rows, width, 1e-5f);
        var x = Random(rows * width, 46 + width).Select((v, i) => v + 0.3 * (i % width) - 1).ToArray();
        var gamma = RoundToFloat(Random(width, 47).Select(v => 1 + 0.5 * v).ToArray());
        var beta = RoundToFloat(Random(width, 48).Select(v => 0.2 * v).ToArray());
        using var gb = Upload(gamma);
        using var bb = Upload(beta);
        CheckOp($"LayerNorm {rows}x{width}", x, rows * width, v => ReferenceOps.LayerNorm(v, width, gamma, beta, 1e-5),
            (xb, yb) => Backend.LayerNorm(spec, xb, gb, bb, yb),
            (xb, yb, dy, dx) => Backend.LayerNormBackward(spec, xb, gb, dy, dx), tolerance: 2e-5);
    }

    public static TheoryData<RowOpKind, int, int> RowOpCases()
    {
        var data = new TheoryData<RowOpKind, int, int>();
        foreach (var kind in Enum.GetValues<RowOpKind>())
            foreach (var (rows, width) in new[] { (3, 1), (5, 7), (2, 200), (517, 12) })
                data.Add(kind, rows, width);
        return data;
    }

    [Theory]
    [MemberData(nameof(RowOpCases))]
    public void RowOp_forward_and_gradient(RowOpKind kind, int rows, int width)
    {
        var spec = new RowOpSpec(kind, rows, width);
        // distinct values (max has one winner per row, away from ties for the finite differences), both signs, some large
        var x = Random(rows * width, 50 + width).Select((v, i) => 4 * v + 0.001 * (i % width)).ToArray();
        CheckOp($"{kind} {rows}x{width}", x, (int)spec.OutCount, v => ReferenceOps.RowOp(kind, v, width),
            (xb, yb) => Backend.RowOp(spec, xb, yb),
            (xb, yb, dy, dx) => Backend.RowOpBackward(spec, xb, yb, dy, dx), tolerance: 2e-5);
    }

    [Fact]
    public void Softmax_is_stable_for_large_inputs_and_max_passes_the_gradient_to_the_first_maximum()
    {
        using var x = Upload([1000, 1001, -1000, 3, 3, 1]);
        using var y = Backend.Allocate<float>(6);
        Backend.RowOp(new RowOpSpec(RowOpKind.Softmax, 2, 3), x, y);
        var s = DownloadFloats(y, 6);
        Assert.All(s, v => Assert.True(float.IsFinite(v)));
        Assert.True(Math.Abs(s[1] - 0.7310586) < 1e-6 && s[2] == 0f, string.Join(", ", s));
        var maxSpec = new RowOpSpec(RowOpKind.Max, 2, 3);
        using var m = Backend.Allocate<float>(2);
        using var dy = Upload([1, 2]);
        using var dx = Backend.Allocate<float>(6);
        Backend.RowOp(maxSpec, x, m);
        Backend.RowOpBackward(maxSpec, x, m, dy, dx);
        Assert.Equal([0f, 1f, 0f, 2f, 0f, 0f], DownloadFloats(dx, 6)); // row 2 ties 3, 3: the first wins, as PyTorch's max
    }

    [Fact]
    public void LayerNorm_refuses_mismatched_buffers_naming_the_op()
    {
        var spec = new LayerNormSpec(2, 4, 1e-5f);
        using var x = Backend.Allocate<float>(8);
        using var gamma = Backend.Allocate<float>(3);
        using var beta = Backend.Allocate<float>(4);
        using var y = Backend.Allocate<float>(8);
        var e = Assert.Throws<ShapeException>(() => Backend.LayerNorm(spec, x, gamma, beta, y));
        Assert.Contains("LayerNorm", e.Message);
        Assert.Contains("gamma", e.Message);
        Assert.Throws<ShapeException>(() => new LayerNormSpec(2, 0, 1e-5f));
    }

    public static TheoryData<UnaryKind> UnaryKinds => new(Enum.GetValues<UnaryKind>());

    [Theory]
    [MemberData(nameof(UnaryKinds))]
    public void Unary_forward_and_gradient(UnaryKind kind)
    {
        int count = ReducedSizes ? 1000 : 20_001;
        var spec = new UnarySpec(kind, Alpha: 0.1f, Min: -0.5f, Max: 0.7f);
        var u = Random(count, 43 + (int)kind);
        // inputs inside each function's domain and away from its kinks (0; Clip's bounds), so finite differences are exact
        var x = kind switch
        {
            UnaryKind.Log or UnaryKind.Sqrt or UnaryKind.Pow => u.Select(v => 0.2 + 2 * Math.Abs(v)).ToArray(),
            UnaryKind.Abs or UnaryKind.LeakyRelu => u.Select(v => v + 0.05 * Math.Sign(v)).ToArray(),
            UnaryKind.Clip => u.Select(v => Math.Abs(v + 0.5) < 0.02 || Math.Abs(v - 0.7) < 0.02 ? v + 0.05 : v).ToArray(),
            _ => u.Select(v => 3 * v).ToArray(),
        };
        CheckOp($"Unary {kind}", x, count, v => ReferenceOps.Unary(spec, v),
            (xb, yb) => Backend.Unary(spec, xb, yb, count),
            (xb, yb, dy, dx) => Backend.UnaryBackward(spec, xb, yb, dy, dx, count), tolerance: 2e-6);
    }

    [Fact]
    public void Pow_with_an_integer_exponent_takes_negative_inputs_and_erf_is_odd_and_saturates()
    {
        int count = 301;
        var cube = new UnarySpec(UnaryKind.Pow, Alpha: 3f);
        var x = Random(count, 49).Select(v => 2 * v).ToArray();
        CheckOp("Unary Pow 3", x, count, v => ReferenceOps.Unary(cube, v),
            (xb, yb) => Backend.Unary(cube, xb, yb, count),
            (xb, yb, dy, dx) => Backend.UnaryBackward(cube, xb, yb, dy, dx, count), tolerance: 2e-6);
        using var e = Upload([-10, -0.5, 0, 0.5, 10]);
        using var y = Backend.Allocate<float>(5);
        Backend.Unary(new UnarySpec(UnaryKind.Erf), e, y, 5);
        var erf = DownloadFloats(y, 5);
        Assert.Equal([-1f, 0f, 1f], [erf[0], erf[2], erf[4]]);
        Assert.Equal(-erf[1], erf[3]);
        Assert.True(Math.Abs(erf[3] - 0.5204998778) < 2e-7, $"erf(0.5) = {erf[3]}");
    }

    [Fact]
    public void Softplus_is_stable_at_both_tails_and_gradients_at_kinks_follow_pytorch()
    {
        using var x = Upload([-100, 0, 100]);
        using var y = Backend.Allocate<float>(3);
        Backend.Unary(new UnarySpec(UnaryKind.Softplus), x, y, 3);
        var sp = DownloadFloats(y, 3);
        Assert.Equal(0f, sp[0]);
        Assert.Equal(MathF.Log(2f), sp[1], 6);
        Assert.Equal(100f, sp[2]);
        // at 0: |x|' = 0, LeakyRelu' = α, Clip at its bounds passes the gradient (PyTorch's clamp)
        using var kinks = Upload([0, 0, -0.5, 0.7]);
        using var dy = Upload([1, 1, 1, 1]);
        using var dx = Backend.Allocate<float>(4);
        using var yy = Backend.Allocate<float>(4);
        float[] Grad(UnarySpec s) { Backend.Unary(s, kinks, yy, 4); Backend.UnaryBackward(s, kinks, yy, dy, dx, 4); return DownloadFloats(dx, 4); }
        Assert.Equal(0f, Grad(new UnarySpec(UnaryKind.Abs))[0]);
        Assert.Equal(0.2f, Grad(new UnarySpec(UnaryKind.LeakyRelu, Alpha: 0.2f))[1]);
        Assert.Equal([1f, 1f], Grad(new UnarySpec(UnaryKind.Clip, Min: -0.5f, Max: 0.7f))[2..]);
    }

    [Fact]
    public void Sigmoid_saturates_at_the_tails_and_keeps_nan()
    {
        using var x = Upload([-1000, -30, 0, 30, 1000]);
        using var y = Backend.Allocate<float>(5);
        Backend.Sigmoid(x, y, 5);
        var got = DownloadFloats(y, 5);
        Assert.Equal(0f, got[0]);
        Assert.Equal(9.357623e-14, got[1], 1e-18);
        Assert.Equal([0.5f, 1f, 1f], got[2..]);
        using var nan = Upload([double.NaN]);
        using var yn = Backend.Allocate<float>(1);
        Backend.Sigmoid(nan, yn, 1);
        Assert.True(float.IsNaN(DownloadFloats(yn, 1)[0]));
    }

    [Fact]
    public void ReluBackward_at_zero_is_zero()
    {
        using var y = Upload([0, 1, -1, 0]);
        using var dy = Upload([5, 6, 7, 8]);
        using var dx = Backend.Allocate<float>(4);
        Backend.ReluBackward(y, dy, dx, 4);
        Assert.Equal([0, 6, 0, 0], Download(dx, 4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(70_001)]
    public void Add_Axpy_Scale_Copy_Fill_match_reference(int count)
    {
        if (count > 1000 && ReducedSizes) count = 1000;
        var a = RoundToFloat(Random(count, 50));
        var b = RoundToFloat(Random(count, 51));
        using var ab = Upload(a);
        using var bb = Upload(b);
        using var yb = Backend.Allocate<float>(count + 3);
        Backend.Add(ab, bb, yb, count);
        AssertClose("Add", a.Zip(b, (p, q) => p + q).ToArray(), Download(yb, count), 1e-6);

        Backend.Axpy(-0.5f, ab, bb, count);
        AssertClose("Axpy", a.Zip(b, (p, q) => q - 0.5 * p).ToArray(), Download(bb, count), 1e-6);

        Backend.Scale(ab, 3f, count);
        AssertClose("Scale", a.Select(p => 3 * p).ToArray(), Download(ab, count), 1e-6);

        Backend.Copy(ab, yb, count);
        AssertClose("Copy", a.Select(p => 3 * p).ToArray(), Download(yb, count), 1e-6);

        Backend.Fill(yb, 2.5f, count);
        var filled = Download(yb, count + 3);
        Assert.All(filled.Take(count), v => Assert.Equal(2.5, v));
    }

    [Fact]
    public void Upload_and_download_respect_offsets()
    {
        using var buffer = Backend.Allocate<float>(6);
        Assert.Equal(new float[6], DownloadFloats(buffer, 6)); // zero-filled
        Backend.Upload<float>([1f, 2f], buffer, 3);
        var part = new float[3];
        Backend.Download<float>(buffer, part, 2);
        Assert.Equal([0f, 1f, 2f], part);
        using var ints = Backend.Allocate<int>(3);
        Backend.Upload<int>([7, 8, 9], ints);
        var back = new int[3];
        Backend.Download<int>(ints, back);
        Assert.Equal([7, 8, 9], back);
    }

    // ---- pooling -------------------------------------------------------------------------------------------

    public sealed record PoolCase(string Name, Pool2dSpec Spec, int Batch);

    public static readonly PoolCase[] PoolCases =
    [
        new("3/2/1 on 4x16 (ResNet stem pool)", new Pool2dSpec(3, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1), 2),
        new("2x2 stride 2", new Pool2dSpec(2, 4, 6, 2, 2, 2, 2), 2),
        new("3x3 stride 2 ceil mode", new Pool2dSpec(2, 5, 6, 3, 3, 2, 2, CeilMode: true), 2),
        new("3x3 stride 2 pad 1 ceil mode", new Pool2dSpec(2, 6, 7, 3, 3, 2, 2, 1, 1, 1, 1, CeilMode: true), 2),
        new("2x3 dilation 2", new Pool2dSpec(2, 6, 7, 2, 3, 1, 2, DilationH: 2, DilationW: 2), 2),
        new("asymmetric pads", new Pool2dSpec(2, 5, 5, 3, 2, 2, 1, 0, 1, 1, 0), 2),
        new("3x3 pad 1 include pad", new Pool2dSpec(2, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, CountIncludePad: true), 2),
        new("3x3 pad 1 ceil include pad", new Pool2dSpec(2, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, CountIncludePad: true, CeilMode: true), 2),
        new("1x1 map", new Pool2dSpec(3, 1, 1, 3, 3, 2, 2, 1, 1, 1, 1), 2),
        new("16 channels 3/2/1 on 4x16 (channels-last vector path)", new Pool2dSpec(16, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1), 2),
        new("8 channels 3x3 stride 2 pad 1 ceil, dilation 2", new Pool2dSpec(8, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, 2, 2, CeilMode: true), 3),
    ];

    public static TheoryData<string> PoolCaseNames => new(PoolCases.Select(c => c.Name));

    [Fact]
    public void MaxPool2d_ties_pick_the_first_tap_as_the_reference()
    {
        // Values from {0, 1, 2} tie in most windows; 8 channels take the CPU's channels-last vector path.
        var s = new Pool2dSpec(8, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1);
        const int batch = 2;
        var x = Enumerable.Range(0, batch * s.InSize).Select(i => (double)(i * 7 % 3)).ToArray();
        using var xb = Upload(x);
        using var yb = Backend.Allocate<float>(batch * s.OutSize);
        using var argmax = Backend.Allocate<int>(batch * s.OutSize);
        Backend.MaxPool2d(s, batch, xb, yb, argmax);
        var got = new int[batch * s.OutSize];
        Backend.Download<int>(argmax, got);
        Assert.Equal(ReferenceOps.MaxPool2d(s, batch, x).Argmax, got);
    }

    [Theory]
    [MemberData(nameof(PoolCaseNames))]
    public void MaxPool2d_forward_argmax_and_gradient(string name)
    {
        var c = PoolCases.Single(k => k.Name == name);
        var s = c.Spec;
        int inLength = c.Batch * s.InSize, outLength = c.Batch * s.OutSize;
        using var argmax = Backend.Allocate<int>(outLength);
        var x = Random(inLength, 60);
        CheckOp($"MaxPool2d {name}", x, outLength,
            xs => ReferenceOps.MaxPool2d(s, c.Batch, xs).Y,
            (xb, yb) => Backend.MaxPool2d(s, c.Batch, xb, yb, argmax),
            (xb, yb, dy, dx) =>
            {
                Backend.MaxPool2d(s, c.Batch, xb, yb, argmax);
                Backend.MaxPool2dBackward(s, c.Batch, dy, argmax, dx);
            });
        using var xb = Upload(RoundToFloat(x));
        using var yb = Backend.Allocate<float>(outLength);
        Backend.MaxPool2d(s, c.Batch, xb, yb, argmax);
        var got = new int[outLength];
        Backend.Download<int>(argmax, got);
        Assert.Equal(ReferenceOps.MaxPool2d(s, c.Batch, RoundToFloat(x)).Argmax, got);
    }

    [Theory]
    [MemberData(nameof(PoolCaseNames))]
    public void AvgPool2d_forward_and_gradient(string name)
    {
        var c = PoolCases.Single(k => k.Name == name);
        var s = c.Spec;
        int inLength = c.Batch * s.InSize, outLength = c.Batch * s.OutSize;
        CheckOp($"AvgPool2d {name}", Random(inLength, 61), outLength,
            xs => ReferenceOps.AvgPool2d(s, c.Batch, xs),
            (xb, yb) => Backend.AvgPool2d(s, c.Batch, xb, yb),
            (xb, yb, dy, dx) => Backend.AvgPool2dBackward(s, c.Batch, dy, dx));
    }

    [Fact]
    public void AvgPool2d_divisor_follows_pytorch_at_the_border()
    {
        // 1×3 input, kernel 1×3, stride 1, pad left/right 1: border windows see 2 real values.
        using var x = Upload([3, 6, 9]);
        using var y = Backend.Allocate<float>(3);
        Backend.AvgPool2d(new Pool2dSpec(1, 1, 3, 1, 3, 1, 1, 0, 1, 0, 1), 1, x, y);
        Assert.Equal([4.5, 6, 7.5], Download(y, 3));
        Backend.AvgPool2d(new Pool2dSpec(1, 1, 3, 1, 3, 1, 1, 0, 1, 0, 1, CountIncludePad: true), 1, x, y);
        Assert.Equal([3, 6, 5], Download(y, 3));
    }

    [Theory]
    [InlineData(2, 3, 5)]
    [InlineData(3, 512, 1)]
    [InlineData(1, 1, 64)]
    public void GlobalAvgPool_forward_and_gradient(int batch, int channels, int spatial)
    {
        CheckOp("GlobalAvgPool", Random(batch * channels * spatial, 70), batch * channels,
            x => ReferenceOps.GlobalAvgPool(batch, channels, spatial, x),
            (x, y) => Backend.GlobalAvgPool(batch, channels, spatial, x, y),
            (x, y, dy, dx) => Backend.GlobalAvgPoolBackward(batch, channels, spatial, dy, dx));
    }

    // ---- gather/scatter, row sum ---------------------------------------------------------------------------

    /// <summary>Slices and head splits: long runs of consecutive columns (the CPU copies and adds them as blocks), one overlapping an earlier run.</summary>
    internal static readonly int[] RunIndex = [.. Enumerable.Range(0, 16), .. Enumerable.Range(20, 16), .. Enumerable.Range(8, 12), 39];

    [Fact]
    public void GatherColumns_and_ScatterColumns_with_long_runs_of_columns()
    {
        const int batch = 5, xColumns = 40;
        int yColumns = RunIndex.Length;
        using var ib = Backend.Allocate<int>(RunIndex.Length);
        Backend.Upload<int>(RunIndex, ib);
        CheckOp("GatherColumns", Random(batch * xColumns, 82), batch * yColumns,
            x => ReferenceOps.GatherColumns(batch, x, xColumns, RunIndex, yColumns),
            (x, y) => Backend.GatherColumns(batch, x, xColumns, ib, y, yColumns),
            (x, y, dy, dx) => Backend.ScatterColumns(batch, dy, yColumns, ib, dx, xColumns));
        CheckOp("ScatterColumns", Random(batch * yColumns, 83), batch * xColumns,
            x => ReferenceOps.ScatterColumns(batch, x, yColumns, RunIndex, xColumns),
            (x, y) => Backend.ScatterColumns(batch, x, yColumns, ib, y, xColumns),
            (x, y, dy, dx) => Backend.GatherColumns(batch, dy, xColumns, ib, dx, yColumns));
    }

    [Fact]
    public void GatherColumns_forward_and_ScatterColumns_is_its_adjoint()
    {
        const int batch = 3, xColumns = 10, yColumns = 6;
        int[] index = [9, 0, 4, 4, 2, 7]; // a repeated column: the scatter must add
        using var ib = Backend.Allocate<int>(index.Length);
        Backend.Upload<int>(index, ib);
        CheckOp("GatherColumns", Random(batch * xColumns, 80), batch * yColumns,
            x => ReferenceOps.GatherColumns(batch, x, xColumns, index, yColumns),
            (x, y) => Backend.GatherColumns(batch, x, xColumns, ib, y, yColumns),
            (x, y, dy, dx) => Backend.ScatterColumns(batch, dy, yColumns, ib, dx, xColumns));
        CheckOp("ScatterColumns", Random(batch * yColumns, 81), batch * xColumns,
            x => ReferenceOps.ScatterColumns(batch, x, yColumns, index, xColumns),
            (x, y) => Backend.ScatterColumns(batch, x, yColumns, ib, y, xColumns),
            (x, y, dy, dx) => Backend.GatherColumns(batch, dy, xColumns, ib, dx, yColumns));
    }

    [Fact]
    public void RowSum_matches_reference()
    {
        foreach (var (batch, columns) in new[] { (1, 1), (4, 118), (5, 3) })
            CheckOp("RowSum", Random(batch * columns, 90), batch,
                x => ReferenceOps.RowSum(batch, columns, x),
                (x, y) => Backend.RowSum(batch, columns, x, y), tolerance: 1e-5 * columns);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(5, 3)]
    [InlineData(7, 19)]     // a vector block and a scalar tail
    [InlineData(300, 256)]  // rows and column blocks spread over the threads
    public void AddRowToEach_forward_and_ColumnSum_is_its_adjoint(int batch, int columns)
    {
        if (batch > 100 && ReducedSizes) batch = 40;
        var a = RoundToFloat(Random(batch * columns, 91));
        using var ab = Upload(a);
        // as a function of the row: y = a + row in every row, whose gradient is the column sum of dy
        CheckOp($"AddRowToEach {batch}x{columns}", Random(columns, 92), batch * columns,
            row => ReferenceOps.AddRowToEach(batch, columns, a, row),
            (row, y) => Backend.AddRowToEach(batch, columns, ab, row, y),
            (row, y, dy, drow) => Backend.ColumnSum(batch, columns, dy, drow), tolerance: 1e-6);
        CheckOp($"ColumnSum {batch}x{columns}", Random(batch * columns, 93), columns,
            x => ReferenceOps.ColumnSum(batch, columns, x),
            (x, y) => Backend.ColumnSum(batch, columns, x, y), tolerance: 1e-6 * Math.Sqrt(batch) + 1e-6);
    }

    [Fact]
    public void AddRowToEach_may_write_in_place()
    {
        const int batch = 9, columns = 13;
        var a = RoundToFloat(Random(batch * columns, 94));
        var row = RoundToFloat(Random(columns, 95));
        using var yb = Upload(a);
        using var rb = Upload(row);
        Backend.AddRowToEach(batch, columns, yb, rb, yb);
        AssertClose("AddRowToEach in place", ReferenceOps.AddRowToEach(batch, columns, a, row), Download(yb, batch * columns), 1e-6);
    }

    // ---- the uncertainty head (tape ops only; the multi-output backward) ---------------------------------------

    /// <summary>
    /// Ensemble head on K+1 stacked outputs: y = [μ (N), σ (N)], μ = Σ w_j m_j, σ = q·(mean_j |m_j − μ| + β + γ|μ − c|),
    /// recorded on a tape from existing ops; the backward seeds μ and σ with their halves of dy in one walk
    /// (<see cref="Kiago.Autodiff.Tape.BackwardFrom"/>), checked against finite differences of the double reference.
    /// </summary>
    [Fact]
    public void EnsembleHead_mean_and_sigma_and_their_joint_backward()
    {
        const int batch = 4, outputs = 5;
        var head = new Kiago.Nets.Uncertainty.UncertaintyHead([0.4f, 0.15f, 0.15f, 0.15f, 0.15f], 1.7f, 0.3f, 2.1f, LevelCenter: 0.2f, LevelWeight: 0.6f);
        using var ensemble = new Kiago.Nets.Uncertainty.EnsembleHead(Backend, head);
        var columnIndex = Enumerable.Range(0, outputs).Select(j =>
        {
            var b = Backend.Allocate<int>(1);
            Backend.Upload<int>([j], b);
            return b;
        }).ToArray();
        double[] Reference(double[] m)
        {
            var y = new double[2 * batch];
            for (int b = 0; b < batch; b++)
            {
                double mu = 0, mad = 0;
                for (int j = 0; j < outputs; j++) mu += head.MeanWeights[j] * m[b * outputs + j];
                for (int j = 0; j < outputs; j++) mad += Math.Abs(m[b * outputs + j] - mu) / outputs;
                y[b] = mu;
                y[batch + b] = head.SigmaScale * (mad + head.SigmaFloor + head.LevelWeight * Math.Abs(mu - head.LevelCenter));
            }
            return y;
        }
        (Kiago.Autodiff.Tensor Mean, Kiago.Autodiff.Tensor Sigma, Kiago.Autodiff.Tensor Leaf) Record(Kiago.Autodiff.Tape tape, DeviceBuffer<float> x)
        {
            var leaf = tape.Leaf(x, [batch, outputs], requiresGrad: true);
            var split = new List<Kiago.Autodiff.Tensor>();
            for (int j = 0; j < outputs; j++) split.Add(tape.Reshape(tape.GatherColumns(leaf, columnIndex[j], 1), batch));
            var (mu, sigma) = ensemble.Run(tape, split);
            return (mu, sigma, leaf);
        }
        try
        {
            // spread-out outputs so no |m_j − μ| sits at the kink within the finite-difference step
            CheckOp("EnsembleHead", Random(batch * outputs, 95, scale: 3), 2 * batch, Reference,
                (x, y) =>
                {
                    using var tape = new Kiago.Autodiff.Tape(Backend);
                    var (mu, sigma, _) = Record(tape, x);
                    var all = new float[2 * batch];
                    using (var part = Backend.Allocate<float>(batch))
                    {
                        Backend.Copy(mu.Buffer, part, batch);
                        Backend.Download<float>(part, all.AsSpan(0, batch));
                        Backend.Copy(sigma.Buffer, part, batch);
                        Backend.Download<float>(part, all.AsSpan(batch, batch));
                    }
                    Backend.Upload<float>(all, y);
                },
                (x, y, dy, dx) =>
                {
                    using var tape = new Kiago.Autodiff.Tape(Backend);
                    var (mu, sigma, leaf) = Record(tape, x);
                    var dyHost = new float[2 * batch];
                    Backend.Download<float>(dy, dyHost);
                    using var dMu = Backend.Allocate<float>(batch);
                    using var dSigma = Backend.Allocate<float>(batch);
                    Backend.Upload<float>(dyHost.AsSpan(0, batch), dMu);
                    Backend.Upload<float>(dyHost.AsSpan(batch, batch), dSigma);
                    tape.BackwardFrom((mu, dMu), (sigma, dSigma));
                    Backend.Copy(leaf.Grad!, dx, batch * outputs);
                });
        }
        finally
        {
            foreach (var c in columnIndex) c.Dispose();
        }
    }

    // ---- Adam ------------------------------------------------------------------------------------------------

    [Fact]
    public void AdamUpdate_follows_pytorch_semantics_over_several_steps()
    {
        const int count = 37;
        var spec = new AdamSpec(0.05f, 0.8f, 0.95f, 1e-6f);
        var p = RoundToFloat(Random(count, 100));
        var m = new double[count];
        var v = new double[count];
        using var pb = Upload(p);
        using var gb = Backend.Allocate<float>(count);
        using var mb = Backend.Allocate<float>(count);
        using var vb = Backend.Allocate<float>(count);
        for (int t = 1; t <= 6; t++)
        {
            var g = RoundToFloat(Random(count, 100 + t));
            if (t == 3) g[0] = 0; // a zero gradient still moves the parameter by the momentum
            Backend.Upload<float>(ToFloat(g), gb);
            Backend.AdamUpdate(spec, t, pb, gb, mb, vb, count);
            ReferenceOps.Adam(spec, t, p, g, m, v);
            AssertClose($"Adam step {t} parameter", p, Download(pb, count), 1e-5);
            AssertClose($"Adam step {t} first moment", m, Download(mb, count), 1e-5);
            AssertClose($"Adam step {t} second moment", v, Download(vb, count), 1e-5);
        }
    }

    [Fact]
    public void AdamUpdate_first_step_moves_each_parameter_by_the_learning_rate()
    {
        using var p = Upload([1, 1, 1]);
        using var g = Upload([2, -0.001, 5]);
        using var m = Backend.Allocate<float>(3);
        using var v = Backend.Allocate<float>(3);
        Backend.AdamUpdate(new AdamSpec(0.1f), 1, p, g, m, v, 3);
        AssertClose("Adam step 1", [0.9, 1.1, 0.9], Download(p, 3), 1e-5);
    }

    // ---- shape errors ----------------------------------------------------------------------------------------

    [Fact]
    public void Shape_errors_name_the_op_and_both_shapes()
    {
        var spec = new Conv2dSpec(3, 5, 5, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        var e = Assert.Throws<ShapeException>(() => Backend.PrepareConv2d(spec, new float[10], []));
        AssertMentions(e, "Conv2d", "weight", "10", "108");

        using var conv = Backend.PrepareConv2d(spec, new float[spec.WeightCount], new float[4]);
        using var small = Backend.Allocate<float>(20);
        using var y = Backend.Allocate<float>(2 * spec.OutSize);
        e = Assert.Throws<ShapeException>(() => conv.Forward(2, small, y));
        AssertMentions(e, "Conv2d", "20", "150");
        using var x = Backend.Allocate<float>(2 * spec.InSize);
        e = Assert.Throws<ShapeException>(() => conv.BackwardInput(2, small, x));
        AssertMentions(e, "Conv2d", "20", "200");

        using var linear = Backend.PrepareLinear(new LinearSpec(4, 3), new float[12], []);
        e = Assert.Throws<ShapeException>(() => linear.Forward(7, x, small));
        AssertMentions(e, "Linear", "20", "21");
        e = Assert.Throws<ShapeException>(() => Backend.PrepareLinear(new LinearSpec(4, 3), new float[12], new float[2]));
        AssertMentions(e, "Linear", "bias", "2", "3");

        e = Assert.Throws<ShapeException>(() => Backend.Gemm(4, 6, 5, x, false, x, false, small));
        AssertMentions(e, "Gemm", "20", "24");

        var pool = new Pool2dSpec(3, 5, 5, 2, 2, 2, 2);
        using var argmax = Backend.Allocate<int>(2);
        e = Assert.Throws<ShapeException>(() => Backend.MaxPool2d(pool, 2, x, y, argmax));
        AssertMentions(e, "MaxPool2d", "argmax", "2", "24");

        e = Assert.Throws<ShapeException>(() => Backend.Add(x, small, y, 100));
        AssertMentions(e, "Add", "20", "100");
    }

    static void AssertMentions(Exception e, params string[] words)
    {
        foreach (var word in words)
            Assert.True(e.Message.Contains(word, StringComparison.Ordinal), $"message '{e.Message}' does not mention '{word}'");
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    protected static double[] Random(int count, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var values = new double[count];
        for (int i = 0; i < count; i++) values[i] = scale * (2 * rng.NextDouble() - 1);
        return values;
    }

    protected static double[] RoundToFloat(double[] values) => values.Select(v => (double)(float)v).ToArray();

    protected static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    protected DeviceBuffer<float> Upload(double[] values)
    {
        var buffer = Backend.Allocate<float>(values.Length);
        Backend.Upload<float>(ToFloat(values), buffer);
        return buffer;
    }

    protected double[] Download(DeviceBuffer<float> buffer, int count) =>
        DownloadFloats(buffer, count).Select(v => (double)v).ToArray();

    protected float[] DownloadFloats(DeviceBuffer<float> buffer, int count)
    {
        var host = new float[count];
        Backend.Download<float>(buffer, host);
        return host;
    }

    /// <summary>|expected − actual| ≤ tolerance · max(1, max|expected|), element by element.</summary>
    protected static void AssertClose(string what, double[] expected, double[] actual, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = Math.Max(1.0, expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale && !double.IsNaN(actual[i]),
                $"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance * scale})");
    }
}
