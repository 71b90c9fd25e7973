namespace Kiago.Kernels.Ilgpu;

/// <summary>One op compared between two backends: the largest difference relative to the reference's magnitude.</summary>
public sealed record ParityResult(string Case, double MaxAbsDifference, double ReferenceScale, double Tolerance)
{
    public bool Passed => MaxAbsDifference <= Tolerance * ReferenceScale && !double.IsNaN(MaxAbsDifference);

    /// <summary>The largest |expected − actual| against the tolerance scaled by max(1, max|expected|); NaN fails.</summary>
    public static ParityResult Of(string name, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double tolerance)
    {
        double scale = 1, diff = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(expected[i]));
            double d = Math.Abs((double)expected[i] - actual[i]);
            diff = double.IsNaN(d) ? double.NaN : Math.Max(diff, d);
            if (double.IsNaN(diff)) break;
        }
        return new ParityResult(name, diff, scale, tolerance);
    }

    public override string ToString() =>
        $"{(Passed ? "ok  " : "FAIL")} {Case}: max |diff| {MaxAbsDifference:E2} (scale {ReferenceScale:G3}, tolerance {Tolerance:E1} x scale)";
}

/// <summary>How large the parity cases are: Small for CPU-accelerator tests, ResNet for the GPU check (ResNet18/ElemNet layer shapes).</summary>
public enum ParitySize { Small, ResNet }

/// <summary>
/// Runs every op of <see cref="IBackend"/> on two backends with the same seeded random inputs and compares the
/// outputs: SIMD vs ILGPU-CPU in the tests, CUDA vs a CPU backend on a GPU machine (also without the .NET SDK,
/// through <c>kiago check-device</c>). Tolerances are relative to max(1, max|reference|) and grow as √K for
/// reductions of length K (float32 summation order differs between backends).
/// </summary>
public static class BackendParity
{
    const double ElementwiseTolerance = 1e-6;

    public static IReadOnlyList<ParityResult> Run(IBackend reference, IBackend candidate, ParitySize size = ParitySize.Small)
    {
        var results = new List<ParityResult>();
        var pair = new Pair(reference, candidate);
        bool big = size == ParitySize.ResNet;
        int batch = big ? 64 : 2;

        // GEMM: every transpose on a conv-like shape and on ragged ones (partial tiles in M, N and K for the tiled
        // kernel's 128×128 / 64×128 tiles and its 16-deep K stages; the small sizes tile on ILGPU-CPU as well).
        var gemms = big
            ? new[] { (4096, 512, 576), (4100, 1000, 86), (257, 130, 1023) }
            : new[] { (33, 21, 40), (70, 37, 19) };
        foreach (var (m, n, k) in gemms)
            foreach (var (ta, tb) in new[] { (false, false), (false, true), (true, false), (true, true) })
                results.Add(pair.Gemm(m, n, k, ta, tb));

        var convs = big
            ? new (string Name, Conv2dSpec Spec)[]
            {
                ("stem 7x7/2 4->64 on 7x32", new Conv2dSpec(4, 7, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3)),
                ("stage1 3x3 64->64 on 2x8", new Conv2dSpec(64, 2, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1)),
                ("stage2 3x3/2 64->128 on 2x8", new Conv2dSpec(64, 2, 8, 128, 3, 3, 2, 2, 1, 1, 1, 1)),
                ("stage2 1x1/2 projection 64->128", new Conv2dSpec(64, 2, 8, 128, 1, 1, 2, 2)),
                ("stage4 3x3 512->512 on 1x1", new Conv2dSpec(512, 1, 1, 512, 3, 3, 1, 1, 1, 1, 1, 1)),
            }
            : new (string Name, Conv2dSpec Spec)[]
            {
                ("stem 7x7/2 4->10 on 7x12", new Conv2dSpec(4, 7, 12, 10, 7, 7, 2, 2, 3, 3, 3, 3)),
                ("3x3 12->9 on 2x8", new Conv2dSpec(12, 2, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1)),
                ("3x3/2 6->11 on 2x8", new Conv2dSpec(6, 2, 8, 11, 3, 3, 2, 2, 1, 1, 1, 1)),
                ("3x3 16->8 on 1x1", new Conv2dSpec(16, 1, 1, 8, 3, 3, 1, 1, 1, 1, 1, 1)),
                ("3x3 groups 2 dilation 2", new Conv2dSpec(4, 6, 6, 6, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, Groups: 2)),
                // ≥ 16 channels and pixels both ways: the tiled kernel (forward and transposed) in auto mode.
                ("3x3 20->24 on 2x8", new Conv2dSpec(20, 2, 8, 24, 3, 3, 1, 1, 1, 1, 1, 1)),
                ("3x3/2 16->32 on 2x8", new Conv2dSpec(16, 2, 8, 32, 3, 3, 2, 2, 1, 1, 1, 1)),
                ("3x3 17->19 on 1x2", new Conv2dSpec(17, 1, 2, 19, 3, 3, 1, 1, 1, 1, 1, 1)),
            };
        foreach (var (name, spec) in convs) results.AddRange(pair.Conv(name, spec, big ? batch : 4 * batch));

        var linears = big ? new[] { (86, 1024), (1024, 512), (512, 1) } : new[] { (13, 21), (21, 1) };
        foreach (var (i, o) in linears) results.AddRange(pair.Linear(i, o, big ? 256 : 5));
        // Every ElemNet layer shape (86→1024×4→512×3→256×3→128×3→64×2→32→1) at a small, ragged batch.
        var elemNet = big
            ? new[] { (1024, 1024), (512, 512), (256, 256), (128, 128), (64, 64), (64, 32), (32, 1) }
            : new[] { (86, 1024), (1024, 512), (512, 256), (256, 128), (128, 64), (64, 32), (32, 1) };
        foreach (var (i, o) in elemNet) results.AddRange(pair.Linear(i, o, big ? 4096 : 37));

        var pool = big ? new Pool2dSpec(64, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1) : new Pool2dSpec(3, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1);
        results.AddRange(pair.Pools(pool, batch));
        results.AddRange(pair.Rows(batch, big ? 512 : 6, big ? 1 : 5));
        results.AddRange(pair.Elementwise(big ? 1 << 20 : 1001));
        results.AddRange(pair.Columns(big ? 4096 : 3));
        results.AddRange(pair.Tokens(big ? 4096 : 5));
        results.AddRange(pair.Adam(big ? 4096 * 118 : 237));
        return results;
    }

    sealed class Pair(IBackend reference, IBackend candidate)
    {
        readonly IBackend[] backends = [reference, candidate];

        static float[] Random(long count, int seed, float scale = 1f)
        {
            var rng = new Random(seed);
            var values = new float[count];
            for (long i = 0; i < count; i++) values[i] = scale * (float)(2 * rng.NextDouble() - 1);
            return values;
        }

        DeviceBuffer<T> Upload<T>(IBackend backend, T[] values) where T : unmanaged
        {
            var buffer = backend.Allocate<T>(values.Length);
            backend.Upload<T>(values, buffer);
            return buffer;
        }

        static float[] Download(IBackend backend, DeviceBuffer<float> buffer)
        {
            var host = new float[buffer.Length];
            backend.Download<float>(buffer, host);
            return host;
        }

        /// <summary>Runs <paramref name="op"/> on both backends (inputs uploaded to each) and compares the named outputs.</summary>
        IEnumerable<ParityResult> Both(string name, double tolerance, Func<IBackend, List<IDisposable>, DeviceBuffer<float>[]> op, params string[] outputs)
        {
            var results = new float[2][][];
            for (int b = 0; b < 2; b++)
            {
                var owned = new List<IDisposable>();
                try
                {
                    var buffers = op(backends[b], owned);
                    results[b] = buffers.Select(x => Download(backends[b], x)).ToArray();
                }
                finally
                {
                    foreach (var d in owned) d.Dispose();
                }
            }
            for (int i = 0; i < outputs.Length; i++)
                yield return ParityResult.Of($"{name} {outputs[i]}", results[0][i], results[1][i], tolerance);
        }

        T Own<T>(List<IDisposable> owned, T item) where T : IDisposable
        {
            owned.Add(item);
            return item;
        }

        public ParityResult Gemm(int m, int n, int k, bool ta, bool tb)
        {
            var a = Random((long)m * k, 1);
            var bm = Random((long)k * n, 2);
            var c = Random((long)m * n, 3);
            return Both($"Gemm {m}x{n}x{k} ta={ta} tb={tb}", 1e-5 * Math.Sqrt(k), (be, owned) =>
            {
                var ab = Own(owned, Upload(be, a));
                var bb = Own(owned, Upload(be, bm));
                var cb = Own(owned, Upload(be, c));
                be.Gemm(m, n, k, ab, ta, bb, tb, cb, 1.25f, 0.5f);
                return [cb];
            }, "C").Single();
        }

        public IEnumerable<ParityResult> Conv(string name, Conv2dSpec s, int batch)
        {
            var w = Random(s.WeightCount, 10, (float)Math.Sqrt(2.0 / (s.WeightCount / s.OutChannels)));
            var bias = Random(s.OutChannels, 11);
            var x = Random((long)batch * s.InSize, 12);
            var dy = Random((long)batch * s.OutSize, 13);
            double tolerance = 1e-5 * Math.Sqrt(s.WeightCount / s.OutChannels * 1.0 + s.OutChannels);
            return Both($"Conv2d {name} batch {batch}", tolerance, (be, owned) =>
            {
                var conv = Own(owned, be.PrepareConv2d(s, w, bias));
                var xb = Own(owned, Upload(be, x));
                var yb = Own(owned, be.Allocate<float>((long)batch * s.OutSize));
                var ryb = Own(owned, be.Allocate<float>((long)batch * s.OutSize));
                var dyb = Own(owned, Upload(be, dy));
                var dxb = Own(owned, be.Allocate<float>((long)batch * s.InSize));
                conv.Forward(batch, xb, yb);
                conv.Forward(batch, xb, ryb, fuseRelu: true);
                conv.BackwardInput(batch, dyb, dxb);
                return [yb, ryb, dxb];
            }, "forward", "forward+relu", "input gradient").ToList();
        }

        public IEnumerable<ParityResult> Linear(int inF, int outF, int batch)
        {
            var spec = new LinearSpec(inF, outF);
            var w = Random((long)inF * outF, 20, (float)Math.Sqrt(2.0 / inF));
            var bias = Random(outF, 21);
            var x = Random((long)batch * inF, 22);
            var dy = Random((long)batch * outF, 23);
            return Both($"Linear {inF}->{outF} batch {batch}", 1e-5 * Math.Sqrt(Math.Max(inF, outF)), (be, owned) =>
            {
                var linear = Own(owned, be.PrepareLinear(spec, w, bias));
                var xb = Own(owned, Upload(be, x));
                var yb = Own(owned, be.Allocate<float>((long)batch * outF));
                var dyb = Own(owned, Upload(be, dy));
                var dxb = Own(owned, be.Allocate<float>((long)batch * inF));
                linear.Forward(batch, xb, yb, fuseRelu: true);
                linear.BackwardInput(batch, dyb, dxb);
                return [yb, dxb];
            }, "forward+relu", "input gradient").ToList();
        }

        public IEnumerable<ParityResult> Pools(Pool2dSpec s, int batch)
        {
            var x = Random((long)batch * s.InSize, 30);
            var dy = Random((long)batch * s.OutSize, 31);
            var avg = s with { CountIncludePad = true };
            return Both($"Pool2d {s.KernelHeight}x{s.KernelWidth}/{s.StrideH} on {s.InHeight}x{s.InWidth} batch {batch}", ElementwiseTolerance * 10, (be, owned) =>
            {
                var xb = Own(owned, Upload(be, x));
                var dyb = Own(owned, Upload(be, dy));
                var yb = Own(owned, be.Allocate<float>((long)batch * s.OutSize));
                var arg = Own(owned, be.Allocate<int>((long)batch * s.OutSize));
                var dxb = Own(owned, be.Allocate<float>((long)batch * s.InSize));
                var ayb = Own(owned, be.Allocate<float>((long)batch * s.OutSize));
                var adxb = Own(owned, be.Allocate<float>((long)batch * s.InSize));
                be.MaxPool2d(s, batch, xb, yb, arg);
                be.MaxPool2dBackward(s, batch, dyb, arg, dxb);
                be.AvgPool2d(avg, batch, xb, ayb);
                be.AvgPool2dBackward(avg, batch, dyb, adxb);
                return [yb, dxb, ayb, adxb];
            }, "max", "max backward", "avg (include pad)", "avg backward").ToList();
        }

        public IEnumerable<ParityResult> Rows(int batch, int channels, int spatial)
        {
            var x = Random((long)batch * channels * spatial, 40);
            var dy = Random((long)batch * channels, 41);
            return Both($"GlobalAvgPool/RowSum [{batch}, {channels}, {spatial}]", 1e-6 * Math.Sqrt(spatial * channels), (be, owned) =>
            {
                var xb = Own(owned, Upload(be, x));
                var yb = Own(owned, be.Allocate<float>((long)batch * channels));
                var dyb = Own(owned, Upload(be, dy));
                var dxb = Own(owned, be.Allocate<float>(x.Length));
                var sb = Own(owned, be.Allocate<float>(batch));
                var cb = Own(owned, be.Allocate<float>(channels * spatial));
                var rb = Own(owned, be.Allocate<float>(x.Length));
                be.GlobalAvgPool(batch, channels, spatial, xb, yb);
                be.GlobalAvgPoolBackward(batch, channels, spatial, dyb, dxb);
                be.RowSum(batch, channels * spatial, xb, sb);
                be.ColumnSum(batch, channels * spatial, xb, cb);
                be.AddRowToEach(batch, channels * spatial, xb, cb, rb);
                return [yb, dxb, sb, cb, rb];
            }, "global avg pool", "global avg pool backward", "row sum", "column sum", "row added to each").ToList();
        }

        public IEnumerable<ParityResult> Elementwise(int count)
        {
            var a = Random(count, 50);
            var b = Random(count, 51);
            return Both($"elementwise x{count}", ElementwiseTolerance, (be, owned) =>
            {
                var ab = Own(owned, Upload(be, a));
                var bb = Own(owned, Upload(be, b));
                var sum = Own(owned, be.Allocate<float>(count));
                var relu = Own(owned, be.Allocate<float>(count));
                var grad = Own(owned, be.Allocate<float>(count));
                be.Add(ab, bb, sum, count);
                be.Axpy(-0.5f, ab, sum, count);
                be.Scale(sum, 3f, count);
                be.Relu(ab, relu, count);
                be.ReluBackward(relu, bb, grad, count);
                var sigmoid = Own(owned, be.Allocate<float>(count));
                var sigmoidGrad = Own(owned, be.Allocate<float>(count));
                be.Sigmoid(ab, sigmoid, count);
                be.SigmoidBackward(sigmoid, bb, sigmoidGrad, count);
                var product = Own(owned, be.Allocate<float>(count));
                be.Multiply(ab, bb, product, count);
                // layer norm over rows of 16 (the remainder of count is left out)
                int width = 16, rows = count / width;
                var norm = new LayerNormSpec(rows, width, 1e-5f);
                var gamma = Own(owned, Upload(be, [.. b.Take(width).Select(v => 1 + v)]));
                var beta = Own(owned, Upload(be, [.. a.Take(width)]));
                var normed = Own(owned, be.Allocate<float>(Math.Max(1, norm.Count)));
                var normGrad = Own(owned, be.Allocate<float>(Math.Max(1, norm.Count)));
                be.LayerNorm(norm, ab, gamma, beta, normed);
                be.LayerNormBackward(norm, ab, gamma, bb, normGrad);
                var outputs = new List<DeviceBuffer<float>> { sum, relu, grad, sigmoid, sigmoidGrad, product, normed, normGrad };
                foreach (var kind in Enum.GetValues<RowOpKind>())
                {
                    var rowSpec = new RowOpSpec(kind, rows, width);
                    var ry = Own(owned, be.Allocate<float>(Math.Max(1, rowSpec.OutCount)));
                    var rg = Own(owned, be.Allocate<float>(Math.Max(1, rowSpec.Count)));
                    be.RowOp(rowSpec, ab, ry);
                    be.RowOpBackward(rowSpec, ab, ry, bb, rg);
                    outputs.Add(ry);
                    outputs.Add(rg);
                }
                foreach (var kind in Enum.GetValues<UnaryKind>())
                {
                    var spec = new UnarySpec(kind, Alpha: 0.1f, Min: -0.5f, Max: 0.5f);
                    var input = kind is UnaryKind.Log or UnaryKind.Sqrt or UnaryKind.Pow ? Own(owned, Upload(be, [.. a.Select(v => 0.1f + MathF.Abs(v))])) : ab;
                    var uy = Own(owned, be.Allocate<float>(count));
                    var ug = Own(owned, be.Allocate<float>(count));
                    be.Unary(spec, input, uy, count);
                    be.UnaryBackward(spec, input, uy, bb, ug, count);
                    outputs.Add(uy);
                    outputs.Add(ug);
                }
                return [.. outputs];
            }, ["add/axpy/scale", "relu", "relu backward", "sigmoid", "sigmoid backward", "multiply", "layer norm", "layer norm backward",
                .. Enum.GetValues<RowOpKind>().SelectMany(k => new[] { k.ToString().ToLowerInvariant(), k.ToString().ToLowerInvariant() + " backward" }),
                .. Enum.GetValues<UnaryKind>().SelectMany(k => new[] { k.ToString().ToLowerInvariant(), k.ToString().ToLowerInvariant() + " backward" })]).ToList();
        }

        public IEnumerable<ParityResult> Columns(int batch)
        {
            const int elements = 118, cells = 4 * 7 * 32;
            var index = Enumerable.Range(0, elements).Select(e => e * 7 % cells).ToArray();
            var x = Random((long)batch * elements, 60);
            return Both($"scatter/gather columns batch {batch}", ElementwiseTolerance, (be, owned) =>
            {
                var ib = Own(owned, Upload(be, index));
                var xb = Own(owned, Upload(be, x));
                var image = Own(owned, be.Allocate<float>((long)batch * cells));
                var back = Own(owned, be.Allocate<float>((long)batch * elements));
                be.ScatterColumns(batch, xb, elements, ib, image, cells);
                be.GatherColumns(batch, image, cells, ib, back, elements);
                return [image, back];
            }, "scatter", "gather").ToList();
        }

        /// <summary>Element-token ops at the shapes of a small attention model: token selection and its adjoint, the embedding lookup, attention's products.</summary>
        public IEnumerable<ParityResult> Tokens(int batch)
        {
            const int elements = 118, tokens = 8, width = 32, heads = 2, dh = width / heads;
            var x = Random((long)batch * elements, 80);
            var table = Random(119L * width, 81);
            var q = Random((long)batch * heads * tokens * dh, 82);
            var k = Random((long)batch * heads * tokens * dh, 83);
            var dTokens = Random((long)batch * 2 * tokens, 84);
            return Both($"tokens batch {batch}", 1e-5 * Math.Sqrt(dh), (be, owned) =>
            {
                var xb = Own(owned, Upload(be, x));   // about half the entries positive: more than 8 per row
                var yb = Own(owned, be.Allocate<float>((long)batch * 2 * tokens));
                var picked = Own(owned, be.Allocate<int>((long)batch * tokens));
                be.SelectTokens(batch, elements, xb, tokens, yb, picked);
                var dyb = Own(owned, Upload(be, dTokens));
                var dxb = Own(owned, be.Allocate<float>(x.Length));
                be.ScatterTokens(batch, elements, tokens, picked, dyb, dxb);
                var tb = Own(owned, Upload(be, table));
                var eb = Own(owned, be.Allocate<float>((long)batch * 2 * tokens * width));
                be.GatherRows(batch * 2 * tokens, yb, tb, 119, width, eb);   // both rows of each token block: Z, then fractions (near 0)
                var qb = Own(owned, Upload(be, q));
                var kb = Own(owned, Upload(be, k));
                var scores = Own(owned, be.Allocate<float>((long)batch * heads * tokens * tokens));
                var back = Own(owned, be.Allocate<float>(q.Length));
                be.BatchedGemm(batch * heads, tokens, tokens, dh, qb, false, kb, true, scores);
                be.BatchedGemm(batch * heads, tokens, dh, tokens, scores, true, kb, false, back);
                return [yb, dxb, eb, scores, back];
            }, "select", "scatter", "embedding", "QK^T", "S^T K").ToList();
        }

        public IEnumerable<ParityResult> Adam(int count)
        {
            var p = Random(count, 70);
            var g = Random(count, 71);
            return Both($"Adam x{count}, 3 steps", 1e-5, (be, owned) =>
            {
                var pb = Own(owned, Upload(be, p));
                var gb = Own(owned, Upload(be, g));
                var mb = Own(owned, be.Allocate<float>(count));
                var vb = Own(owned, be.Allocate<float>(count));
                for (int t = 1; t <= 3; t++) be.AdamUpdate(new AdamSpec(0.03f), t, pb, gb, mb, vb, count);
                return [pb, mb, vb];
            }, "parameter", "first moment", "second moment").ToList();
        }
    }
}
