using Kiago.Autodiff;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Tests.Kernels;

namespace Kiago.Tests.Autodiff;

public sealed class TapeTests : IDisposable
{
    readonly CpuBackend backend = new(threads: 2);

    public void Dispose() => backend.Dispose();

    /// <summary>
    /// fractions [B,10] → scatter into a 3×6×8 image → conv3×3+ReLU → maxpool 3/2/1 → residual block
    /// (conv+ReLU, conv, add, ReLU) → global avg pool → linear+ReLU → linear, plus a gathered side branch from
    /// the same leaf (linear on 5 columns) added to the output: the leaf gets gradient from two paths.
    /// </summary>
    sealed class SmallNet : IDisposable
    {
        public const int Batch = 2, Columns = 10;
        public static readonly Conv2dSpec Stem = new(3, 6, 8, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        public static readonly Pool2dSpec Pool = new(4, 6, 8, 3, 3, 2, 2, 1, 1, 1, 1);
        public static readonly Conv2dSpec Block = new(4, 3, 4, 4, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1);
        public static readonly int[] ImageIndex = [0, 17, 33, 50, 64, 71, 99, 100, 120, 143];
        public static readonly int[] SideIndex = [9, 2, 2, 5, 0];

        public readonly double[] StemW, StemB, B1W, B1B, B2W, B2B, L1W, L1B, L2W, L2B, SideW;
        readonly IConv2d stem, block1, block2;
        readonly ILinear fc1, fc2, side;
        readonly DeviceBuffer<int> imageIndex, sideIndex;

        public SmallNet(IBackend backend)
        {
            var rng = new Random(5);
            double[] R(int n, double s) => Enumerable.Range(0, n).Select(_ => (double)(float)(s * (2 * rng.NextDouble() - 1))).ToArray();
            StemW = R(Stem.WeightCount, 0.5); StemB = R(4, 0.1);
            B1W = R(Block.WeightCount, 0.3); B1B = R(4, 0.1);
            B2W = R(Block.WeightCount, 0.3); B2B = R(4, 0.1);
            L1W = R(12, 0.8); L1B = R(3, 0.1);
            L2W = R(3, 0.8); L2B = R(1, 0.1);
            SideW = R(5, 0.8);
            static float[] F(double[] v) => v.Select(d => (float)d).ToArray();
            stem = backend.PrepareConv2d(Stem, F(StemW), F(StemB));
            block1 = backend.PrepareConv2d(Block, F(B1W), F(B1B));
            block2 = backend.PrepareConv2d(Block, F(B2W), F(B2B));
            fc1 = backend.PrepareLinear(new LinearSpec(4, 3), F(L1W), F(L1B));
            fc2 = backend.PrepareLinear(new LinearSpec(3, 1), F(L2W), F(L2B));
            side = backend.PrepareLinear(new LinearSpec(5, 1), F(SideW), []);
            imageIndex = backend.Allocate<int>(ImageIndex.Length);
            backend.Upload<int>(ImageIndex, imageIndex);
            sideIndex = backend.Allocate<int>(SideIndex.Length);
            backend.Upload<int>(SideIndex, sideIndex);
        }

        public Tensor Forward(Tape tape, Tensor x)
        {
            var image = tape.Reshape(tape.ScatterColumns(x, imageIndex, Stem.InSize), Batch, 3, 6, 8);
            var h = tape.MaxPool2d(tape.Conv2d(image, stem, fuseRelu: true), Pool);
            var r = tape.Conv2d(tape.Conv2d(h, block1, fuseRelu: true), block2);
            var features = tape.GlobalAvgPool(tape.Relu(tape.Add(r, h)));
            var main = tape.Linear(tape.Linear(features, fc1, fuseRelu: true), fc2);
            var branch = tape.Linear(tape.GatherColumns(x, sideIndex, SideIndex.Length), side);
            return tape.Add(main, branch);
        }

        public double[] Reference(double[] x)
        {
            var image = ReferenceOps.ScatterColumns(Batch, x, Columns, ImageIndex, Stem.InSize);
            var c = ReferenceOps.Conv2d(Stem, Batch, image, StemW, StemB, relu: true);
            var h = ReferenceOps.MaxPool2d(Pool, Batch, c).Y;
            var r = ReferenceOps.Conv2d(Block, Batch, ReferenceOps.Conv2d(Block, Batch, h, B1W, B1B, relu: true), B2W, B2B);
            var sum = ReferenceOps.Relu(r.Zip(h, (p, q) => p + q).ToArray());
            var f = ReferenceOps.GlobalAvgPool(Batch, 4, 12, sum);
            var main = ReferenceOps.Linear(new LinearSpec(3, 1), Batch, ReferenceOps.Linear(new LinearSpec(4, 3), Batch, f, L1W, L1B, relu: true), L2W, L2B);
            var branch = ReferenceOps.Linear(new LinearSpec(5, 1), Batch,
                ReferenceOps.GatherColumns(Batch, x, Columns, SideIndex, SideIndex.Length), SideW, null);
            return main.Zip(branch, (p, q) => p + q).ToArray();
        }

        public void Dispose()
        {
            stem.Dispose(); block1.Dispose(); block2.Dispose(); fc1.Dispose(); fc2.Dispose(); side.Dispose();
            imageIndex.Dispose(); sideIndex.Dispose();
        }
    }

    static double[] Inputs() => Enumerable.Range(0, SmallNet.Batch * SmallNet.Columns)
        .Select(i => (double)(float)(0.2 + 0.8 * Math.Abs(Math.Sin(1.7 * i + 0.3)))).ToArray();

    DeviceBuffer<float> Upload(double[] values, IBackend? on = null)
    {
        on ??= backend;
        var buffer = on.Allocate<float>(values.Length);
        on.Upload<float>(values.Select(v => (float)v).ToArray(), buffer);
        return buffer;
    }

    float[] Download(DeviceBuffer<float> buffer, long count, IBackend? on = null)
    {
        var host = new float[count];
        (on ?? backend).Download<float>(buffer, host);
        return host;
    }

    [Fact]
    public void Input_gradient_of_a_small_residual_net_matches_finite_differences()
    {
        using var net = new SmallNet(backend);
        using var tape = new Tape(backend);
        var x = Inputs();
        using var xb = Upload(x);
        var leaf = tape.Leaf(xb, [SmallNet.Batch, SmallNet.Columns], requiresGrad: true);
        var y = net.Forward(tape, leaf);
        Assert.Equal([SmallNet.Batch, 1], y.Shape);
        var expected = net.Reference(x);
        var got = Download(y.Buffer, y.Length);
        for (int b = 0; b < expected.Length; b++) Assert.True(Math.Abs(expected[b] - got[b]) < 1e-4, $"output {b}: {got[b]} vs {expected[b]}");

        const float seed = 0.5f;
        tape.Backward(y, seed);
        Assert.NotNull(leaf.Grad);
        var grad = Download(leaf.Grad!, leaf.Length);
        var fd = ReferenceOps.FiniteDifferenceGradient(net.Reference, x, Enumerable.Repeat((double)seed, expected.Length).ToArray());
        double scale = fd.Max(Math.Abs);
        Assert.True(scale > 1e-3, "the test graph should have a non-trivial gradient");
        for (int i = 0; i < fd.Length; i++)
            Assert.True(Math.Abs(fd[i] - grad[i]) <= 1e-3 * scale, $"dL/dx[{i}] = {grad[i]}, finite differences {fd[i]}");
    }

    [Fact]
    public void Gradients_from_several_paths_are_summed()
    {
        using var tape = new Tape(backend);
        double[] x = [-2, -0.5, 0.5, 3];
        using var xb = Upload(x);
        var leaf = tape.Leaf(xb, [1, 4], requiresGrad: true);
        // y = relu(x) + x + (x + x): dy/dx = relu'(x) + 3
        var y = tape.Add(tape.Add(tape.Relu(leaf), leaf), tape.Add(leaf, leaf));
        tape.Backward(y, 2f);
        Assert.Equal([6f, 6f, 8f, 8f], Download(leaf.Grad!, 4));
    }

    [Fact]
    public void A_row_shared_by_the_batch_gets_the_summed_gradient_of_every_row()
    {
        // y = (a + r) ⊙ repeat(r): r [1, 3] reaches y through AddRow and RepeatRow; a [4, 3] through AddRow only.
        // dL/da = repeat(r); dL/dr = Σ_b (repeat(r) + a + r)_b, with L = Σ y.
        const int batch = 4, width = 3;
        double[] a = [0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0, 3, -0.5, 0.125], r = [1.5, -0.5, 2];
        using var ab = Upload(a);
        using var rb = Upload(r);
        using var tape = new Tape(backend);
        var aLeaf = tape.Leaf(ab, [batch, width], requiresGrad: true);
        var rLeaf = tape.Leaf(rb, [1, width], requiresGrad: true);
        var y = tape.Multiply(tape.AddRow(aLeaf, rLeaf), tape.RepeatRow(rLeaf, batch));
        var got = Download(y.Buffer, batch * width);
        for (int i = 0; i < batch * width; i++) Assert.Equal((float)((a[i] + r[i % width]) * r[i % width]), got[i]);
        tape.Backward(y, 1f);
        var da = Download(aLeaf.Grad!, batch * width);
        var dr = Download(rLeaf.Grad!, width);
        for (int i = 0; i < batch * width; i++) Assert.Equal((float)r[i % width], da[i]);
        for (int j = 0; j < width; j++)
        {
            double expected = Enumerable.Range(0, batch).Sum(b => 2 * r[j] + a[b * width + j]);
            Assert.True(Math.Abs(expected - dr[j]) < 1e-5, $"dL/dr[{j}] = {dr[j]}, expected {expected}");
        }
        Assert.Throws<ShapeException>(() => tape.AddRow(aLeaf, aLeaf));
        Assert.Throws<ShapeException>(() => tape.RepeatRow(aLeaf, 2));
    }

    [Fact]
    public void SiLU_as_x_times_sigmoid_x_then_layer_norm_has_the_finite_difference_gradient()
    {
        // y = LayerNorm(x ⊙ σ(x)) · w over a width-6 last axis: Multiply with the leaf on both sides (its gradient sums
        // two paths) and LayerNorm's input gradient, against finite differences of a double reference.
        const int rows = 3, width = 6;
        var x = Enumerable.Range(0, rows * width).Select(i => Math.Sin(1.7 * i) * 2 + 0.1 * i).Select(v => (double)(float)v).ToArray();
        double[] gamma = [1.2, 0.8, -0.5, 1, 0.3, 2], beta = [0.1, -0.2, 0, 0.3, 0.5, -0.1], w = [0.7, -1.1, 0.4, 1.3, -0.6, 0.9];
        double[] Reference(double[] v)
        {
            var silu = v.Select(t => t / (1 + Math.Exp(-t))).ToArray();
            var n = ReferenceOps.LayerNorm(silu, width, gamma, beta, 1e-5);
            return Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, width).Sum(i => n[r * width + i] * w[i])).ToArray();
        }
        using var tape = new Tape(backend);
        using var xb = Upload(x);
        using var gb = Upload(gamma);
        using var bb = Upload(beta);
        using var fc = backend.PrepareLinear(new LinearSpec(width, 1), w.Select(v => (float)v).ToArray(), []);
        var leaf = tape.Leaf(xb, [rows, width], requiresGrad: true);
        var y = tape.Linear(tape.LayerNorm(tape.Multiply(leaf, tape.Sigmoid(leaf)), gb, bb, 1e-5f), fc);
        var expected = Reference(x);
        var got = Download(y.Buffer, rows);
        for (int r = 0; r < rows; r++) Assert.True(Math.Abs(expected[r] - got[r]) < 1e-4, $"y[{r}] = {got[r]}, expected {expected[r]}");
        tape.Backward(y, 1f);
        var grad = Download(leaf.Grad!, leaf.Length);
        var fd = ReferenceOps.FiniteDifferenceGradient(Reference, x, Enumerable.Repeat(1.0, rows).ToArray());
        double scale = fd.Max(Math.Abs);
        Assert.True(scale > 1e-2, "the test graph should have a non-trivial gradient");
        for (int i = 0; i < fd.Length; i++)
            Assert.True(Math.Abs(fd[i] - grad[i]) <= 1e-3 * scale, $"dL/dx[{i}] = {grad[i]}, finite differences {fd[i]}");
    }

    [Fact]
    public void Attention_over_selected_tokens_has_the_finite_difference_gradient()
    {
        // compositions [2, 5] → 3 tokens [2, 2, 3]; the fractions row f (viewed [2, 3, 1]) times itself transposed gives
        // A = f·fᵀ [2, 3, 3]; y = Σ (A·A) per sample. MatMul with the same leaf-derived value on both sides (two paths) and
        // the token selection's adjoint; the third composition's smallest entry is not picked, so its gradient is 0.
        const int batch = 2, columns = 5, tokens = 3;
        double[] x = [0.5, 0, 0.2, 0.3, 0, 0.1, 0.4, 0.05, 0.3, 0.15];
        double[] Reference(double[] v)
        {
            var y = new double[batch];
            for (int b = 0; b < batch; b++)
            {
                var kept = Enumerable.Range(0, columns).Where(c => v[b * columns + c] > 0).OrderByDescending(c => v[b * columns + c]).ThenBy(c => c)
                    .Take(tokens).Order().Select(c => v[b * columns + c]).Concat(Enumerable.Repeat(0.0, tokens)).Take(tokens).ToArray();
                for (int i = 0; i < tokens; i++)
                    for (int j = 0; j < tokens; j++)
                        y[b] += Enumerable.Range(0, tokens).Sum(k => kept[i] * kept[k] * kept[k] * kept[j]);
            }
            return y;
        }
        using var tape = new Tape(backend);
        using var xb = Upload(x);
        using var index = backend.Allocate<int>(tokens);
        backend.Upload<int>([3, 4, 5], index);
        var leaf = tape.Leaf(xb, [batch, columns], requiresGrad: true);
        var t = tape.Tokens(leaf, tokens);
        var f = tape.GatherColumns(tape.Reshape(t, batch, 2 * tokens), index, tokens);
        var column = tape.Reshape(f, batch, tokens, 1);
        var row = tape.Reshape(f, batch, 1, tokens);
        var a = tape.MatMul(column, row);
        var y = tape.RowOp(tape.Reshape(tape.MatMul(a, a), batch, tokens * tokens), RowOpKind.Sum);
        var expected = Reference(x);
        var got = Download(y.Buffer, batch);
        for (int b = 0; b < batch; b++) Assert.True(Math.Abs(expected[b] - got[b]) < 1e-6, $"y[{b}] = {got[b]}, expected {expected[b]}");
        tape.Backward(y, 1f);
        var grad = Download(leaf.Grad!, leaf.Length);
        var fd = ReferenceOps.FiniteDifferenceGradient(Reference, x, Enumerable.Repeat(1.0, batch).ToArray(), h: 1e-6);
        for (int i = 0; i < fd.Length; i++)
            Assert.True(Math.Abs(fd[i] - grad[i]) <= 1e-3 * fd.Max(Math.Abs), $"dL/dx[{i}] = {grad[i]}, finite differences {fd[i]}");
        Assert.Equal(0.0, grad[7]);   // 0.05: not among the 3 largest of its row
    }

    [Fact]
    public void Leaves_that_did_not_ask_get_no_gradient_and_constant_outputs_cannot_be_differentiated()
    {
        using var tape = new Tape(backend);
        using var ab = Upload([1, -1]);
        using var bb = Upload([2, 2]);
        var a = tape.Leaf(ab, [1, 2], requiresGrad: true);
        var b = tape.Leaf(bb, [1, 2]);
        var y = tape.Add(a, b);
        tape.Backward(y);
        Assert.Null(b.Grad);
        Assert.Equal([1f, 1f], Download(a.Grad!, 2));
        Assert.Throws<InvalidOperationException>(() => tape.Backward(tape.Relu(b)));
    }

    [Fact]
    public void Repeated_steps_give_identical_results_and_stop_allocating()
    {
        // One worker thread: with more, how many tiles hold scratch at once (and so how many arrays the pool must
        // create, at most threads × per-tile arrays) depends on the scheduler, and the cap may first be reached after
        // warm-up. One thread makes "nothing new after warm-up" a deterministic check of the pooling itself.
        using var single = new CpuBackend(threads: 1);
        using var net = new SmallNet(single);
        using var tape = new Tape(single);
        var x = Inputs();
        using var xb = Upload(x, single);
        float[]? firstY = null, firstGrad = null;
        int allocationsAfterWarmup = -1, scratchAfterWarmup = -1;
        for (int step = 0; step < 6; step++)
        {
            var leaf = tape.Leaf(xb, [SmallNet.Batch, SmallNet.Columns], requiresGrad: true);
            var y = net.Forward(tape, leaf);
            tape.Backward(y);
            var yv = Download(y.Buffer, y.Length, single);
            var gv = Download(leaf.Grad!, leaf.Length, single);
            firstY ??= yv;
            firstGrad ??= gv;
            Assert.Equal(firstY, yv);
            Assert.Equal(firstGrad, gv);
            tape.Reset();
            if (step == 2) { allocationsAfterWarmup = tape.PoolAllocations; scratchAfterWarmup = single.ScratchAllocations; }
            if (step > 2)
            {
                Assert.Equal(allocationsAfterWarmup, tape.PoolAllocations);
                Assert.Equal(scratchAfterWarmup, single.ScratchAllocations);
            }
        }
    }

    [Fact]
    public void Dead_activations_are_released_after_their_last_reader_once_the_graph_is_known()
    {
        using var net = new SmallNet(backend);
        using var tape = new Tape(backend);
        using var xb = Upload(Inputs());
        for (int step = 0; step < 3; step++)
        {
            var leaf = tape.Leaf(xb, [SmallNet.Batch, SmallNet.Columns], requiresGrad: true);
            var image = tape.ScatterColumns(leaf, DummyIndex(), SmallNet.Stem.InSize);
            var kept = tape.Keep(tape.Relu(image));
            var doubled = tape.Add(kept, kept);
            var y = tape.Relu(doubled);
            tape.Backward(y);
            // doubled is read by the last ReLU and not needed by backward: released from step 3 on (plan learned
            // from two identical steps). The kept tensor and the ReLU outputs stay readable.
            if (step < 2) _ = doubled.Buffer;
            else Assert.Throws<InvalidOperationException>(() => doubled.Buffer);
            _ = kept.Buffer;
            _ = y.Buffer;
            tape.Reset();
        }
    }

    DeviceBuffer<int>? dummyIndex;

    DeviceBuffer<int> DummyIndex()
    {
        if (dummyIndex is null)
        {
            dummyIndex = backend.Allocate<int>(SmallNet.Columns);
            backend.Upload<int>(SmallNet.ImageIndex, dummyIndex);
        }
        return dummyIndex;
    }

    [Fact]
    public void Forward_only_mode_matches_and_records_nothing()
    {
        using var net = new SmallNet(backend);
        using var tape = new Tape(backend);
        using var xb = Upload(Inputs());
        var y1 = Download(net.Forward(tape, tape.Leaf(xb, [SmallNet.Batch, SmallNet.Columns], requiresGrad: true)).Buffer, 2);
        tape.Reset();
        tape.RecordGradients = false;
        var leaf = tape.Leaf(xb, [SmallNet.Batch, SmallNet.Columns], requiresGrad: true);
        var y = net.Forward(tape, leaf);
        Assert.False(y.RequiresGrad);
        Assert.Equal(y1, Download(y.Buffer, 2));
        Assert.Throws<InvalidOperationException>(() => tape.Backward(y));
    }

    [Fact]
    public void Shape_errors_name_the_op_and_both_shapes()
    {
        using var net = new SmallNet(backend);
        using var tape = new Tape(backend);
        using var xb = backend.Allocate<float>(1000);
        var bad = tape.Leaf(xb, [2, 3, 5, 8]);
        using var conv = backend.PrepareConv2d(SmallNet.Stem, new float[SmallNet.Stem.WeightCount], []);
        var e = Assert.Throws<ShapeException>(() => tape.Conv2d(bad, conv));
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("[2, 3, 5, 8]", e.Message);
        Assert.Contains("[2, 3, 6, 8]", e.Message);
        e = Assert.Throws<ShapeException>(() => tape.Add(bad, tape.Leaf(xb, [2, 3, 8, 5])));
        Assert.Contains("[2, 3, 8, 5]", e.Message);
        e = Assert.Throws<ShapeException>(() => tape.Reshape(bad, 7, -1));
        Assert.Contains("Reshape", e.Message);
    }
}
