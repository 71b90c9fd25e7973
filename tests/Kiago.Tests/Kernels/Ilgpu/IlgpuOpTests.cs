using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using static Kiago.Tests.Kernels.Ilgpu.IlgpuTestHelpers;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// ILGPU kernels on the CPU accelerator against plain loops, at sizes that make the grid-stride loops and the
/// register-block edges (clamped rows/columns, partial channel blocks) do real work. The shared
/// <see cref="BackendOpTests"/> suite covers every op on every backend; these cases target the ILGPU tiling.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuOpTests(IlgpuCpuFixture fixture)
{
    readonly IlgpuBackend backend = fixture.Backend;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Gemm_tiles_cover_ragged_edges(bool ta, bool tb)
    {
        foreach (var (m, n, k) in new[] { (7, 19, 13), (33, 9, 70), (1, 5, 3) })
        {
            var a = Random(m * k, 1);
            var b = Random(k * n, 2);
            var c = Random(m * n, 3);
            using var ab = IlgpuTestHelpers.Upload(backend, a);
            using var bb = IlgpuTestHelpers.Upload(backend, b);
            using var cb = IlgpuTestHelpers.Upload(backend, c);
            backend.Gemm(m, n, k, ab, ta, bb, tb, cb, 1.5f, -0.5f);
            AssertClose($"Gemm {m}x{n}x{k}", ReferenceOps.Gemm(m, n, k, ReferenceOps.ToDouble(a), ta, ReferenceOps.ToDouble(b), tb, ReferenceOps.ToDouble(c), 1.5, -0.5), backend.Download(cb, m * n), 1e-5 * Math.Sqrt(k));
        }
    }

    public static TheoryData<string> ConvNames => new(ConvCases.Keys);

    static readonly Dictionary<string, (Conv2dSpec Spec, int Batch)> ConvCases = new()
    {
        ["3x3 pad 1, 11 output channels (partial block)"] = (new Conv2dSpec(3, 5, 6, 11, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2),
        ["7x7 stride 2 pad 3 stem"] = (new Conv2dSpec(4, 7, 12, 9, 7, 7, 2, 2, 3, 3, 3, 3), 2),
        ["3x3 on a 1x2 map (2 of 9 taps real)"] = (new Conv2dSpec(6, 1, 2, 8, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 3),
        ["3x3 stride 2 groups 2"] = (new Conv2dSpec(4, 5, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, Groups: 2), 2),
        ["3x3 dilation 2 asymmetric pads"] = (new Conv2dSpec(3, 6, 6, 5, 3, 3, 1, 1, 2, 1, 0, 2, 2, 2), 2),
        ["1x1 stride 2 projection"] = (new Conv2dSpec(10, 4, 6, 12, 1, 1, 2, 2), 2),
    };

    [Theory]
    [MemberData(nameof(ConvNames))]
    public void Conv2d_forward_and_transposed_backward_match_loops(string name)
    {
        var (s, batch) = ConvCases[name];
        var w = Random(s.WeightCount, 10, 0.5f);
        var bias = Random(s.OutChannels, 11);
        var x = Random(batch * s.InSize, 12);
        var dy = Random(batch * s.OutSize, 13);
        using var conv = backend.PrepareConv2d(s, w, bias);
        using var xb = IlgpuTestHelpers.Upload(backend, x);
        using var yb = backend.Allocate<float>(batch * s.OutSize);
        foreach (bool relu in new[] { false, true })
        {
            conv.Forward(batch, xb, yb, relu);
            AssertClose($"{name} forward relu={relu}", ReferenceOps.Conv2d(s, batch, ReferenceOps.ToDouble(x), ReferenceOps.ToDouble(w), bias is null ? null : ReferenceOps.ToDouble(bias), relu), backend.Download(yb, batch * s.OutSize), 1e-5);
        }
        using var dyb = IlgpuTestHelpers.Upload(backend, dy);
        using var dxb = backend.Allocate<float>(batch * s.InSize);
        backend.Fill(dxb, float.NaN, batch * s.InSize); // the backward must overwrite every element
        conv.BackwardInput(batch, dyb, dxb);
        AssertClose($"{name} backward", ReferenceOps.Conv2dBackwardInput(s, batch, ReferenceOps.ToDouble(dy), ReferenceOps.ToDouble(w)), backend.Download(dxb, batch * s.InSize), 1e-5);
    }

    [Fact]
    public void Linear_forward_with_bias_relu_and_backward()
    {
        const int batch = 6, inF = 13, outF = 10;
        var w = Random(inF * outF, 20);
        var bias = Random(outF, 21);
        var x = Random(batch * inF, 22);
        using var linear = backend.PrepareLinear(new LinearSpec(inF, outF), w, bias);
        using var xb = IlgpuTestHelpers.Upload(backend, x);
        using var yb = backend.Allocate<float>(batch * outF);
        linear.Forward(batch, xb, yb, fuseRelu: true);
        var expected = new double[batch * outF];
        for (int n = 0; n < batch; n++)
            for (int o = 0; o < outF; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inF; i++) sum += (double)x[n * inF + i] * w[o * inF + i];
                expected[n * outF + o] = Math.Max(0, sum);
            }
        AssertClose("Linear forward", expected, backend.Download(yb, batch * outF), 1e-5);

        var dy = Random(batch * outF, 23);
        using var dyb = IlgpuTestHelpers.Upload(backend, dy);
        using var dxb = backend.Allocate<float>(batch * inF);
        linear.BackwardInput(batch, dyb, dxb);
        var dx = new double[batch * inF];
        for (int n = 0; n < batch; n++)
            for (int i = 0; i < inF; i++)
                for (int o = 0; o < outF; o++) dx[n * inF + i] += (double)dy[n * outF + o] * w[o * inF + i];
        AssertClose("Linear backward", dx, backend.Download(dxb, batch * inF), 1e-5);
    }

    [Fact]
    public void MaxPool_3x3_stride2_pad1_argmax_and_gather_backward()
    {
        var spec = new Pool2dSpec(3, 4, 16, 3, 3, 2, 2, 1, 1, 1, 1);
        const int batch = 2;
        int inLength = batch * spec.InSize, outLength = batch * spec.OutSize;
        var x = Random(inLength, 30);
        using var xb = IlgpuTestHelpers.Upload(backend, x);
        using var yb = backend.Allocate<float>(outLength);
        using var arg = backend.Allocate<int>(outLength);
        backend.MaxPool2d(spec, batch, xb, yb, arg);
        var y = backend.Download(yb, outLength);
        var argmax = new int[outLength];
        backend.Download<int>(arg, argmax);
        var dy = Random(outLength, 31);
        var dx = new double[inLength];
        for (int o = 0; o < outLength; o++)
        {
            int plane = o / (spec.OutHeight * spec.OutWidth), oh = o / spec.OutWidth % spec.OutHeight, ow = o % spec.OutWidth;
            int best = -1;
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++)
                {
                    int ih = oh * 2 - 1 + kh, iw = ow * 2 - 1 + kw;
                    if (ih < 0 || ih >= spec.InHeight || iw < 0 || iw >= spec.InWidth) continue;
                    int i = (plane * spec.InHeight + ih) * spec.InWidth + iw;
                    if (best < 0 || x[i] > x[best]) best = i;
                }
            Assert.Equal(best, argmax[o]);
            Assert.Equal(x[best], y[o]);
            dx[best] += dy[o];
        }
        using var dyb = IlgpuTestHelpers.Upload(backend, dy);
        using var dxb = backend.Allocate<float>(inLength);
        backend.MaxPool2dBackward(spec, batch, dyb, arg, dxb);
        AssertClose("MaxPool backward", dx, backend.Download(dxb, inLength), 1e-6);
    }

    [Fact]
    public void AvgPool_include_pad_and_its_adjoint()
    {
        var spec = new Pool2dSpec(2, 5, 6, 3, 3, 2, 2, 1, 1, 1, 1, CountIncludePad: true);
        const int batch = 2;
        int inLength = batch * spec.InSize, outLength = batch * spec.OutSize;
        var x = Random(inLength, 40);
        var dy = Random(outLength, 41);
        using var xb = IlgpuTestHelpers.Upload(backend, x);
        using var yb = backend.Allocate<float>(outLength);
        backend.AvgPool2d(spec, batch, xb, yb);
        using var dyb = IlgpuTestHelpers.Upload(backend, dy);
        using var dxb = backend.Allocate<float>(inLength);
        backend.AvgPool2dBackward(spec, batch, dyb, dxb);
        var y = backend.Download(yb, outLength);
        var dx = backend.Download(dxb, inLength);
        // Interior window: 9 real taps; every window divides by 9 with padding counted (the corner holds 4 real).
        Assert.Equal((x[0] + x[1] + x[6] + x[7]) / 9.0, y[0], 1e-6);
        // Adjoint: ⟨dy, pool(x)⟩ = ⟨poolᵀ(dy), x⟩.
        double left = dy.Zip(y, (a, b) => (double)a * b).Sum(), right = dx.Zip(x, (a, b) => (double)a * b).Sum();
        Assert.Equal(left, right, 1e-5);
    }

    [Fact]
    public void Columns_rowsum_global_pool_and_elementwise()
    {
        const int batch = 3, xColumns = 10, yColumns = 6;
        int[] index = [9, 0, 4, 4, 2, 7];
        var x = Random(batch * xColumns, 50);
        using var xb = IlgpuTestHelpers.Upload(backend, x);
        using var ib = IlgpuTestHelpers.Upload(backend, index);
        using var yb = backend.Allocate<float>(batch * yColumns);
        backend.GatherColumns(batch, xb, xColumns, ib, yb, yColumns);
        var gathered = backend.Download(yb, batch * yColumns);
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < yColumns; j++) Assert.Equal(x[b * xColumns + index[j]], gathered[b * yColumns + j]);

        using var sb = backend.Allocate<float>(batch * xColumns);
        backend.Fill(sb, 7f, batch * xColumns);
        backend.ScatterColumns(batch, yb, yColumns, ib, sb, xColumns);
        var scattered = backend.Download(sb, batch * xColumns);
        Assert.Equal(2 * x[4], scattered[4], 1e-6);      // column 4 received twice
        Assert.Equal(0f, scattered[1]);                    // never indexed: zeroed
        Assert.Equal(x[xColumns + 9], scattered[xColumns + 9]);

        using var rb = backend.Allocate<float>(batch);
        backend.RowSum(batch, xColumns, xb, rb);
        var sums = backend.Download(rb, batch);
        for (int b = 0; b < batch; b++) Assert.Equal(x.Skip(b * xColumns).Take(xColumns).Sum(), sums[b], 1e-5);

        var e = Assert.Throws<ShapeException>(() => backend.GlobalAvgPool(batch, 2, 5, xb, rb)); // 6 means, room for 3
        Assert.Contains("GlobalAvgPool", e.Message);
        using var gb = backend.Allocate<float>(batch * 2);
        backend.GlobalAvgPool(batch, 2, 5, xb, gb);
        var means = backend.Download(gb, batch * 2);
        for (int r = 0; r < batch * 2; r++) Assert.Equal(x.Skip(r * 5).Take(5).Average(), means[r], 1e-6);
        using var gx = backend.Allocate<float>(batch * xColumns);
        backend.GlobalAvgPoolBackward(batch, 2, 5, gb, gx);
        var spread = backend.Download(gx, batch * xColumns);
        for (int i = 0; i < spread.Length; i++) Assert.Equal(means[i / 5] / 5, spread[i], 1e-7);
    }

    [Fact]
    public void Elementwise_ops_run_grid_stride_over_many_elements()
    {
        const int count = 10_007; // far more elements than launched threads
        var a = Random(count, 60);
        var b = Random(count, 61);
        using var ab = IlgpuTestHelpers.Upload(backend, a);
        using var bb = IlgpuTestHelpers.Upload(backend, b);
        using var yb = backend.Allocate<float>(count);
        backend.Add(ab, bb, yb, count);
        backend.Axpy(2f, ab, yb, count);
        backend.Scale(yb, -1f, count);
        var y = backend.Download(yb, count);
        for (int i = 0; i < count; i++) Assert.Equal(-(a[i] + b[i] + 2 * a[i]), y[i], 1e-5);
        backend.Relu(ab, yb, count);
        backend.ReluBackward(yb, bb, ab, count);
        var relu = backend.Download(yb, count);
        var grad = backend.Download(ab, count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(Math.Max(0, a[i]), relu[i]);
            Assert.Equal(a[i] > 0 ? b[i] : 0, grad[i]);
        }
    }

    [Fact]
    public void Adam_matches_pytorch_formula()
    {
        const int count = 29;
        var spec = new AdamSpec(0.05f, 0.8f, 0.95f, 1e-6f);
        var p = Random(count, 70).Select(v => (double)v).ToArray();
        var m = new double[count];
        var v2 = new double[count];
        using var pb = IlgpuTestHelpers.Upload(backend, p.Select(v => (float)v).ToArray());
        using var gb = backend.Allocate<float>(count);
        using var mb = backend.Allocate<float>(count);
        using var vb = backend.Allocate<float>(count);
        for (int t = 1; t <= 4; t++)
        {
            var g = Random(count, 70 + t);
            backend.Upload<float>(g, gb);
            backend.AdamUpdate(spec, t, pb, gb, mb, vb, count);
            for (int i = 0; i < count; i++)
            {
                m[i] = spec.Beta1 * m[i] + (1 - spec.Beta1) * g[i];
                v2[i] = spec.Beta2 * v2[i] + (1 - spec.Beta2) * g[i] * (double)g[i];
                double denom = Math.Sqrt(v2[i]) / Math.Sqrt(1 - Math.Pow(spec.Beta2, t)) + spec.Epsilon;
                p[i] -= spec.LearningRate / (1 - Math.Pow(spec.Beta1, t)) * m[i] / denom;
            }
            AssertClose($"Adam step {t}", p, backend.Download(pb, count), 1e-5);
        }
    }

    [Fact]
    public void Buffers_of_another_backend_are_refused_by_name()
    {
        using var other = IlgpuBackend.CreateCpu();
        using var foreign = other.Allocate<float>(4);
        using var mine = backend.Allocate<float>(4);
        var e = Assert.Throws<ArgumentException>(() => backend.Add(mine, foreign, mine, 4));
        Assert.Contains("Add", e.Message);
        Assert.Contains("'b'", e.Message);
    }
}
