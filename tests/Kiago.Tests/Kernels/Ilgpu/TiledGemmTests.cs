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
    static readonly (int M, int N, int K)[] RaggedShapes = [(7, 19, 13), (33, 9, 70), (1, 5, 3), (37, 41, 17), (16, 16, 16)];

    static void CheckGemm(IlgpuBackend backend, int m, int n, int k, bool ta, bool tb, float alpha, float beta)
    {
        var a = Random(m * k, 1);
        var b = Random(k * n, 2);
        var c = Random(m * n, 3);
        using var ab = backend.Upload(a);
        using var bb = backend.Upload(b);
        using var cb = backend.Upload(c);
        backend.Gemm(m, n, k, ab, ta, bb, tb, cb, alpha, beta);
        AssertClose($"Gemm {m}x{n}x{k} ta={ta} tb={tb} mode={backend.GemmOp.Mode}",
            Gemm(m, n, k, a, ta, b, tb, c, alpha, beta), backend.Download(cb, m * n), 1e-5 * Math.Sqrt(k));
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
        var saved = backend.GemmOp.Mode;
        backend.GemmOp.Mode = mode;
        try { check(); }
        finally { backend.GemmOp.Mode = saved; }
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
            Assert.False(fixture.Backend.GemmOp.UsesTiled(64, 64));
            CheckGemm(fixture.Backend, 37, 41, 17, true, false, 1.5f, -0.5f);
            CheckLinear(fixture.Backend, 21, 86, 40);
        });

    [Fact]
    public void Auto_mode_tiles_only_shapes_of_at_least_16_rows_and_columns()
    {
        var gemm = fixture.Backend.GemmOp;
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
        Assert.Equal((16, 16), GemmOp.GroupShape(130, 133, backend.Accelerator.MaxNumThreadsPerGroup, backend.Accelerator.NumMultiprocessors));
        WithMode(backend, GemmMode.Auto, () =>
        {
            CheckGemm(backend, 130, 133, 35, false, false, 1.25f, 0.5f);
            CheckGemm(backend, 129, 70, 17, true, true, 1f, 0f);
            CheckLinear(backend, 131, 86, 136);
        });
    }

    [Fact]
    public void Group_shape_follows_n_fills_the_multiprocessors_and_fits_the_device()
    {
        Assert.Equal((16, 16), GemmOp.GroupShape(4096, 1024, 1024, 132)); // 32×8 = 256 tiles of 128×128
        Assert.Equal((8, 16), GemmOp.GroupShape(4096, 512, 1024, 132));   // 128×128 would give 128 < 132 groups
        Assert.Equal((16, 8), GemmOp.GroupShape(65536, 64, 1024, 132));   // conv-sized M, 64 output channels
        Assert.Equal((16, 4), GemmOp.GroupShape(4096, 32, 1024, 2));
        Assert.Equal((1, 2), GemmOp.GroupShape(4096, 1024, 2, 2));        // ILGPU CPU accelerator: 2-thread groups
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
        var e = Assert.Throws<InvalidOperationException>(() => IlgpuBackend.ParseGemmMode("fast"));
        Assert.Contains(IlgpuBackend.GemmEnvironmentVariable, e.Message);
        Assert.Contains("simple", e.Message);
    }
}
