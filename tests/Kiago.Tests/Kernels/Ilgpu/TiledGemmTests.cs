using ILGPU.Runtime.CPU;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Kernels.Ilgpu.Ops;
using static Kiago.Tests.Kernels.Ilgpu.IlgpuTestHelpers;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// The shared-memory tiled GEMM on ILGPU's CPU accelerator: forced on ragged shapes (partial tiles in M, N and K) for
/// every transpose and the Linear epilogue (bias, ReLU); once more with the GPU's 16×16-thread groups on a
/// 256-thread simulated device; and the simple kernel still right when KIAGO_ILGPU_GEMM=simple picks it.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class TiledGemmTests(IlgpuCpuFixture fixture)
{
    const int IlgpuConv2dBlock = IlgpuConv2d.Block;
    static readonly (int M, int N, int K)[] RaggedShapes = [(7, 19, 13), (33, 9, 70), (1, 5, 3), (37, 41, 17), (16, 16, 16), (17, 18, 0)];

    static void CheckGemm(IlgpuBackend backend, int m, int n, int k, bool ta, bool tb, float alpha, float beta)
    {
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var c = Random(m * n, 3);
        using var ab = backend.Upload(a);
        using var bb = backend.Upload(b);
        using var cb = backend.Upload(c);
        backend.Gemm(m, n, k, ab, ta, bb, tb, cb, alpha, beta);
        AssertClose($"Gemm {m}x{n}x{k} ta={ta} tb={tb} mode={backend.GemmKernels.Mode}",
            ReferenceOps.Gemm(m, n, k, ReferenceOps.ToDouble(a), ta, ReferenceOps.ToDouble(b), tb, ReferenceOps.ToDouble(c), alpha, beta), backend.Download(cb, m * n), 1e-5 * Math.Sqrt(k));
    }

    static void CheckLinear(IlgpuBackend backend, int batch, int inF, int outF)
    {
        var w = Random(inF * outF, 20);
        var bias = Random(outF, 21);
        var x = Random(batch * inF, 22);
        var dy = Random(batch * outF, 23);
        using var linear = backend.PrepareLinear(new LinearSpec(inF, outF), w, bias);
        using var xb = backend.Upload(x);
        using var yb = backend.Allocate<float>(batch * outF);
        backend.Fill(yb, float.NaN, batch * outF); // beta = 0: C is never read
        linear.Forward(batch, xb, yb, fuseRelu: true);
        var y = new double[batch * outF];
        for (int r = 0; r < batch; r++)
            for (int o = 0; o < outF; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inF; i++) sum += (double)x[r * inF + i] * w[o * inF + i];
                y[r * outF + o] = Math.Max(0, sum);
            }
        AssertClose($"Linear {inF}->{outF} forward", y, backend.Download(yb, batch * outF), 1e-5 * Math.Sqrt(inF));

        using var dyb = backend.Upload(dy);
        using var dxb = backend.Allocate<float>(batch * inF);
        backend.Fill(dxb, float.NaN, batch * inF);
        linear.BackwardInput(batch, dyb, dxb);
        var dx = new double[batch * inF];
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < inF; i++)
                for (int o = 0; o < outF; o++) dx[r * inF + i] += (double)dy[r * outF + o] * w[o * inF + i];
        AssertClose($"Linear {inF}->{outF} backward", dx, backend.Download(dxb, batch * inF), 1e-5 * Math.Sqrt(outF));
    }

    /// <summary>Runs <paramref name="check"/> with the backend's GEMM forced to <paramref name="mode"/>, then restores it.</summary>
    static void WithMode(IlgpuBackend backend, GemmMode mode, Action check)
    {
        var saved = backend.GemmKernels.Mode;
        backend.GemmKernels.Mode = mode;
        try { check(); }
        finally { backend.GemmKernels.Mode = saved; }
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Tiled_kernel_matches_loops_on_ragged_shapes(bool ta, bool tb) =>
        WithMode(fixture.Backend, GemmMode.Tiled, () =>
        {
            foreach (var (m, n, k) in RaggedShapes) CheckGemm(fixture.Backend, m, n, k, ta, tb, 1.5f, -0.5f);
            CheckGemm(fixture.Backend, 20, 18, 9, ta, tb, 1f, 0f);
        });

    [Fact]
    public void Tiled_linear_fuses_bias_and_relu_and_runs_the_backward() =>
        WithMode(fixture.Backend, GemmMode.Tiled, () => CheckLinear(fixture.Backend, 21, 86, 40));

    [Fact]
    public void Simple_mode_still_matches_loops_on_shapes_auto_would_tile() =>
        WithMode(fixture.Backend, GemmMode.Simple, () =>
        {
            Assert.False(fixture.Backend.GemmKernels.UsesTiled(64, 64));
            CheckGemm(fixture.Backend, 37, 41, 17, true, false, 1.5f, -0.5f);
            CheckLinear(fixture.Backend, 21, 86, 40);
            // No tiled plans: the conv keeps only its two packed weight copies (+ bias).
            var spec = new Conv2dSpec(20, 2, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1);
            long before = fixture.Backend.WeightBytes;
            using (fixture.Backend.PrepareConv2d(spec, new float[spec.WeightCount], new float[spec.OutChannels]))
                Assert.Equal(4L * (2 * (spec.WeightCount + IlgpuConv2dBlock) + spec.OutChannels), fixture.Backend.WeightBytes - before);
            CheckConv(fixture.Backend, "simple 3x3/2 20->24", spec, 4);
        });

    [Fact]
    public void Auto_mode_tiles_only_shapes_of_at_least_16_rows_and_columns()
    {
        var gemm = fixture.Backend.GemmKernels;
        WithMode(fixture.Backend, GemmMode.Auto, () =>
        {
            Assert.True(gemm.UsesTiled(4096, 1024));
            Assert.True(gemm.UsesTiled(16, 16));
            Assert.False(gemm.UsesTiled(4096, 1)); // ElemNet's last layer: a 1-wide tile would waste the group
            Assert.False(gemm.UsesTiled(5, 1024));
        });
    }

    [Fact]
    public void Gpu_sized_groups_of_16x16_threads_compute_128x128_tiles_correctly()
    {
        // 256 OS threads per group (ILGPU's CPU accelerator simulates each GPU thread with one): the very index
        // arithmetic a GPU runs. Shapes leave partial 128×128 tiles and partial K stages.
        using var backend = IlgpuBackend.CreateCpu(new CPUDevice(16, 16, 1));
        Assert.Equal((16, 16), IlgpuGemm.GroupShape(130, 133, backend.Accelerator.MaxNumThreadsPerGroup, backend.Accelerator.NumMultiprocessors));
        WithMode(backend, GemmMode.Auto, () =>
        {
            CheckGemm(backend, 130, 133, 35, false, false, 1.25f, 0.5f);
            CheckGemm(backend, 129, 70, 17, true, true, 1f, 0f);
            CheckLinear(backend, 131, 86, 136);
            // The other group shapes a GPU picks: 8×16 (M ≤ 64), 16×8 (N ≤ 64) and 16×4 (N ≤ 32) threads.
            Assert.Equal((8, 16), IlgpuGemm.GroupShape(64, 150, 256, 1));
            CheckGemm(backend, 64, 150, 20, false, true, 1f, 0.5f);
            Assert.Equal((16, 8), IlgpuGemm.GroupShape(130, 40, 256, 1));
            CheckGemm(backend, 130, 40, 17, true, false, 1f, 0f);
            Assert.Equal((16, 4), IlgpuGemm.GroupShape(130, 20, 256, 1));
            CheckGemm(backend, 130, 20, 33, false, false, 1f, 0f);
        });
    }

    static readonly Dictionary<string, (Conv2dSpec Spec, int Batch)> ConvCases = new()
    {
        ["3x3 pad 1, 11 output channels"] = (new Conv2dSpec(3, 5, 6, 11, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 2),
        ["7x7 stride 2 pad 3 stem"] = (new Conv2dSpec(4, 7, 12, 9, 7, 7, 2, 2, 3, 3, 3, 3), 2),
        ["3x3 on a 1x2 map (rows of taps dropped)"] = (new Conv2dSpec(6, 1, 2, 8, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 3),
        ["3x3 on a 1x1 map (only the centre tap)"] = (new Conv2dSpec(17, 1, 1, 19, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 5),
        ["3x3 stride 2 on 2x8"] = (new Conv2dSpec(6, 2, 8, 11, 3, 3, 2, 2, 1, 1, 1, 1), 3),
        ["3x3 dilation 2 asymmetric pads"] = (new Conv2dSpec(3, 6, 6, 5, 3, 3, 1, 1, 2, 1, 0, 2, 2, 2), 2),
        ["3x3 stride 3 by 1 (general divisibility path)"] = (new Conv2dSpec(3, 7, 8, 5, 3, 3, 3, 1, 1, 1, 1, 1), 2),
        ["1x1 stride 2 projection"] = (new Conv2dSpec(10, 4, 6, 12, 1, 1, 2, 2), 2),
        ["3x3 stride 2 groups 2 (simple kernel)"] = (new Conv2dSpec(4, 5, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, Groups: 2), 2),
    };

    public static TheoryData<string> ConvNames => new(ConvCases.Keys);

    static void CheckConv(IlgpuBackend backend, string name, Conv2dSpec s, int batch)
    {
        var w = Random(s.WeightCount, 10, 0.5f);
        var bias = Random(s.OutChannels, 11);
        var x = Random(batch * s.InSize, 12);
        var dy = Random(batch * s.OutSize, 13);
        using var conv = backend.PrepareConv2d(s, w, bias);
        using var xb = backend.Upload(x);
        using var yb = backend.Allocate<float>(batch * s.OutSize);
        foreach (bool relu in new[] { false, true })
        {
            backend.Fill(yb, float.NaN, batch * s.OutSize); // every output element must be written
            conv.Forward(batch, xb, yb, relu);
            AssertClose($"{name} forward relu={relu}", ReferenceOps.Conv2d(s, batch, ReferenceOps.ToDouble(x), ReferenceOps.ToDouble(w), bias is null ? null : ReferenceOps.ToDouble(bias), relu), backend.Download(yb, batch * s.OutSize), 1e-5 * Math.Sqrt(s.WeightCount / s.OutChannels));
        }
        using var dyb = backend.Upload(dy);
        using var dxb = backend.Allocate<float>(batch * s.InSize);
        backend.Fill(dxb, float.NaN, batch * s.InSize);
        conv.BackwardInput(batch, dyb, dxb);
        AssertClose($"{name} backward", ReferenceOps.Conv2dBackwardInput(s, batch, ReferenceOps.ToDouble(dy), ReferenceOps.ToDouble(w)), backend.Download(dxb, batch * s.InSize), 1e-5 * Math.Sqrt(s.OutChannels * 9.0));
    }

    [Theory]
    [MemberData(nameof(ConvNames))]
    public void Tiled_convolution_forward_and_backward_match_loops(string name) =>
        WithMode(fixture.Backend, GemmMode.Tiled, () => CheckConv(fixture.Backend, name, ConvCases[name].Spec, ConvCases[name].Batch));

    [Fact]
    public void Gpu_sized_groups_run_resnet_like_convolutions()
    {
        using var backend = IlgpuBackend.CreateCpu(new CPUDevice(16, 16, 1));
        // Auto mode: both directions tile (≥ 16 channels and pixels); stride 2 exercises the backward's divisibility test.
        CheckConv(backend, "3x3 20->24 on 2x8", new Conv2dSpec(20, 2, 8, 24, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1), 9);
        CheckConv(backend, "3x3/2 16->24 on 2x8", new Conv2dSpec(16, 2, 8, 24, 3, 3, 2, 2, 1, 1, 1, 1), 9);
        CheckConv(backend, "3x3 8->64 on 2x8 (8x16-thread groups)", new Conv2dSpec(8, 2, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1), 9);
    }

    [Fact]
    public void Group_shape_follows_n_fills_the_multiprocessors_and_fits_the_device()
    {
        Assert.Equal((16, 16), IlgpuGemm.GroupShape(4096, 1024, 1024, 132)); // 32×8 = 256 tiles of 128×128
        Assert.Equal((8, 16), IlgpuGemm.GroupShape(4096, 512, 1024, 132));   // 128×128 would give 128 < 132 groups
        Assert.Equal((16, 8), IlgpuGemm.GroupShape(65536, 64, 1024, 132));   // conv-sized M, 64 output channels
        Assert.Equal((16, 4), IlgpuGemm.GroupShape(4096, 32, 1024, 2));
        Assert.Equal((8, 4), IlgpuGemm.GroupShape(4096, 32, 1024, 132));     // ElemNet 64→32: still a full warp per group
        Assert.Equal((8, 16), IlgpuGemm.GroupShape(64, 65536, 1024, 132));   // conv as Cout × pixels: a 64-row tile
        Assert.Equal((4, 16), IlgpuGemm.GroupShape(20, 4096, 1024, 132));
        Assert.Equal((1, 2), IlgpuGemm.GroupShape(4096, 1024, 2, 2));        // ILGPU CPU accelerator: 2-thread groups
    }

    /// <summary>Runs <paramref name="check"/> with the backend's tiling set to <paramref name="tiling"/>, then restores it.</summary>
    static void WithTiling(IlgpuBackend backend, TilingOptions tiling, Action check)
    {
        var saved = backend.GemmKernels.Tiling;
        backend.GemmKernels.Tiling = tiling;
        try { check(); }
        finally { backend.GemmKernels.Tiling = saved; }
    }

    /// <summary>The tuning variants tools/gpu-tune.sh times: KIAGO_ILGPU_TILE / KIAGO_ILGPU_TILE_K / KIAGO_ILGPU_PREFETCH / KIAGO_ILGPU_VEC4 values.</summary>
    public static TheoryData<string, string, string, string> TilingVariants => new()
    {
        { "auto", "16", "0", "0" },
        { "auto", "8", "0", "0" },
        { "auto", "16", "1", "0" },
        { "auto", "8", "1", "0" },
        { "64x64", "16", "0", "0" },
        { "64x64", "8", "1", "0" },
        { "128x64", "8", "1", "0" },
        { "64x128", "8", "0", "0" },
        { "32x32", "16", "0", "0" },
        { "auto", "16", "0", "1" },
        { "auto", "8", "1", "1" },
        { "auto", "16", "1", "1" },
        { "64x64", "16", "0", "1" },
        { "128x64", "8", "1", "1" },
        { "32x32", "8", "0", "1" },
    };

    [Theory]
    [MemberData(nameof(TilingVariants))]
    public void Every_tiling_variant_matches_loops_on_ragged_shapes_with_small_groups(string tile, string tileK, string prefetch, string vector) =>
        WithMode(fixture.Backend, GemmMode.Tiled, () => WithTiling(fixture.Backend, TilingOptions.Parse(tile, tileK, prefetch, vector), () =>
        {
            // 2-thread groups: several load rounds per stage (the prefetch variants fall back to the plain K loop).
            foreach (var (m, n, k) in RaggedShapes)
                foreach (var (ta, tb) in new[] { (false, false), (true, true), (false, true), (true, false) })
                    CheckGemm(fixture.Backend, m, n, k, ta, tb, 1.5f, -0.5f);
            CheckLinear(fixture.Backend, 21, 86, 40);
            CheckConv(fixture.Backend, $"{tile}/{tileK}/{prefetch}/{vector} 3x3/2", ConvCases["3x3 stride 2 on 2x8"].Spec, 3);
        }));

    [Theory]
    [MemberData(nameof(TilingVariants))]
    public void Every_tiling_variant_matches_loops_with_gpu_sized_groups(string tile, string tileK, string prefetch, string vector)
    {
        // 256-thread groups as on the GPU: full-size tiles up to the caps, and the prefetch path where a chunk holds a stage.
        using var backend = IlgpuBackend.CreateCpu(new CPUDevice(16, 16, 1));
        var tiling = TilingOptions.Parse(tile, tileK, prefetch, vector);
        var (rows, cols) = IlgpuGemm.GroupShape(130, 133, 256, 1, tiling);
        Assert.True(rows * TiledGemm.Block <= tiling.MaxTileRows && cols * TiledGemm.Block <= tiling.MaxTileCols, $"{rows}x{cols} threads exceed {tiling}");
        if (tiling.Prefetch)
            Assert.True(TiledGemm.PrefetchApplies(rows, cols, tiling.TileK), $"{tiling}: {rows}x{cols} threads do not prefetch");
        WithTiling(backend, tiling, () =>
        {
            CheckGemm(backend, 130, 133, 35, false, false, 1.25f, 0.5f);
            CheckGemm(backend, 129, 70, 17, true, true, 1f, 0f);
            CheckConv(backend, $"{tile}/{tileK}/{prefetch}/{vector} 3x3/2 16->72", new Conv2dSpec(16, 2, 8, 72, 3, 3, 2, 2, 1, 1, 1, 1), 9);
        });
    }

    [Fact]
    public void Tiling_caps_bound_the_group_shape()
    {
        var caps = TilingOptions.Parse("64x32", null, null);
        Assert.Equal((8, 4), IlgpuGemm.GroupShape(4096, 1024, 1024, 1, caps));
        Assert.Equal((4, 4), IlgpuGemm.GroupShape(20, 1024, 1024, 1, caps)); // M still shrinks the tile below the cap
        Assert.Equal((16, 8), IlgpuGemm.GroupShape(4096, 1024, 1024, 1, TilingOptions.Parse("128x64", "8", "1")));
        Assert.Equal((8, 16), IlgpuGemm.GroupShape(4096, 1024, 1024, 1, TilingOptions.Parse("64x128", null, null)));
        // The default options reproduce the shapes above exactly.
        foreach (var (m, n, mps) in new[] { (4096, 1024, 132), (4096, 512, 132), (65536, 64, 132), (4096, 32, 2), (64, 65536, 132), (20, 4096, 132) })
            Assert.Equal(IlgpuGemm.GroupShape(m, n, 1024, mps), IlgpuGemm.GroupShape(m, n, 1024, mps, TilingOptions.Parse(null, null, null)));
        Assert.True(TiledGemm.PrefetchApplies(16, 16, 16));
        Assert.False(TiledGemm.PrefetchApplies(8, 16, 16));
        Assert.True(TiledGemm.PrefetchApplies(8, 16, 8));
        Assert.False(TiledGemm.PrefetchApplies(1, 2, 8));
    }

    [Theory]
    [InlineData(null, null, null, 128, 128, 16, false)]
    [InlineData("", "", "", 128, 128, 16, false)]
    [InlineData("auto", "16", "0", 128, 128, 16, false)]
    [InlineData(" 64X128 ", "8", "1", 64, 128, 8, true)]
    [InlineData("32x8", " 16 ", "on", 32, 8, 16, true)]
    public void Tiling_environment_values_parse(string? tile, string? tileK, string? prefetch, int rows, int cols, int depth, bool fetch)
    {
        Assert.Equal(new TilingOptions(rows, cols, depth, fetch), TilingOptions.Parse(tile, tileK, prefetch));
        Assert.True(TilingOptions.Parse(tile, tileK, prefetch, " 1 ").Vector);
        Assert.Equal(4 + (depth == 8 ? 1 : 0) + (fetch ? 2 : 0), TilingOptions.Parse(tile, tileK, prefetch, "on").Variant);
        Assert.Equal(TilingOptions.Default, TilingOptions.Parse(null, null, null));
    }

    [Theory]
    [InlineData("96x64", null, null, "KIAGO_ILGPU_TILE")]
    [InlineData("128", null, null, "KIAGO_ILGPU_TILE")]
    [InlineData("256x128", null, null, "KIAGO_ILGPU_TILE")]
    [InlineData(null, "32", null, "KIAGO_ILGPU_TILE_K")]
    [InlineData(null, null, "yes", "KIAGO_ILGPU_PREFETCH")]
    [InlineData(null, null, null, "KIAGO_ILGPU_VEC4")]
    public void Unknown_tiling_values_are_refused_by_name(string? tile, string? tileK, string? prefetch, string variable)
    {
        string? vector = variable == TilingOptions.VectorEnvironmentVariable ? "2" : null;
        var e = Assert.Throws<EnvironmentVariableException>(() => TilingOptions.Parse(tile, tileK, prefetch, vector));
        Assert.Contains(variable + "=", e.Message);
        Assert.Contains($"'{tile ?? tileK ?? prefetch ?? vector}'", e.Message);
    }

    [Theory]
    [InlineData(null, GemmMode.Auto)]
    [InlineData("", GemmMode.Auto)]
    [InlineData("auto", GemmMode.Auto)]
    [InlineData("simple", GemmMode.Simple)]
    [InlineData(" Tiled ", GemmMode.Tiled)]
    public void Environment_variable_picks_the_gemm_kernel(string? value, GemmMode expected) =>
        Assert.Equal(expected, IlgpuBackend.ParseGemmMode(value));

    [Fact]
    public void Unknown_environment_value_is_refused_by_name()
    {
        var e = Assert.Throws<EnvironmentVariableException>(() => IlgpuBackend.ParseGemmMode("fast"));
        Assert.Contains("'fast'", e.Message);
        Assert.Contains(IlgpuBackend.GemmEnvironmentVariable, e.Message);
        Assert.Contains("simple", e.Message);
    }
}
