using Kiago.Design.CompositionMap;
using Kiago.Design.Initialisers;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;
using Kiago.Tests.Kernels.Ilgpu;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design;

/// <summary>The ILGPU composition kernel against the CPU one (itself checked against the double reference), written
/// once against an accelerator: ILGPU's CPU accelerator here, CUDA when present.</summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class CompositionKernelIlgpuTests(IlgpuCpuFixture fixture)
{
    const int E = 118;

    public static TheoryData<string> KernelNames => new(
        IlgpuKernelRegistry.Kernels(typeof(CompositionKernelIlgpu).Assembly).Select(IlgpuKernelRegistry.Name));

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_sm90(string name)
    {
        var kernel = IlgpuKernelRegistry.Kernels(typeof(CompositionKernelIlgpu).Assembly).Single(k => IlgpuKernelRegistry.Name(k) == name);
        var ptx = PtxCompiler.Compile(kernel);
        Assert.Contains(".entry", ptx);
        Assert.DoesNotContain(".extern .func", ptx);
    }

    [Fact]
    public void Registry_lists_the_three_composition_kernels() =>
        Assert.Equal(3, IlgpuKernelRegistry.Kernels(typeof(CompositionKernelIlgpu).Assembly).Count);

    [Theory]
    [InlineData(IntegerDistance.Squared)]
    [InlineData(IntegerDistance.Absolute)]
    public void Ilgpu_cpu_accelerator_matches_the_cpu_kernel(IntegerDistance distance) => MatchesCpu(fixture.Backend, distance);

    [CudaFact]
    public void Cuda_matches_the_cpu_kernel()
    {
        using var cuda = IlgpuBackend.CreateCuda();
        MatchesCpu(cuda, IntegerDistance.Squared);
    }

    [Fact]
    public void Optimiser_on_ilgpu_cpu_follows_the_cpu_backend()
    {
        var c = OptimiserParity.Run(new CpuBackend(), spec => new CompositionKernelCpu(spec));
        var g = OptimiserParity.Run(fixture.Backend, spec => new CompositionKernelIlgpu(fixture.Backend, spec), disposeBackend: false);
        for (int i = 0; i < c.FinalX.Length; i++) Assert.True(Math.Abs(c.FinalX[i] - g.FinalX[i]) < 2e-3, $"x[{i}] {c.FinalX[i]} vs {g.FinalX[i]}");
        for (int b = 0; b < c.Candidates; b++) Assert.True(Math.Abs(c.FinalTc[b] - g.FinalTc[b]) < 0.05, $"Tc[{b}] {c.FinalTc[b]} vs {g.FinalTc[b]}");
    }

    static void MatchesCpu(IlgpuBackend gpu, IntegerDistance distance)
    {
        const int batch = 37;
        var allowed = new float[E];
        for (int e = 0; e < 86; e++) allowed[e] = 1f;
        allowed[25] = 0f;
        var fixedPart = new float[E];
        fixedPart[0] = 0.25f;
        var spec = new CompositionSpec(allowed, fixedPart, Enumerable.Range(1, 30), distance);
        var rng = new DesignRandom(77);
        var theta = new float[batch * E]; var top = new float[batch * E]; var gx = new float[batch * E];
        for (int i = 0; i < theta.Length; i++)
        {
            double u = rng.NextDouble();
            theta[i] = u < 0.2 ? (float)rng.NextDouble() : u < 0.25 ? -0.3f : 0f;
            top[i] = rng.NextDouble() < 0.8 ? 1f : 0f;
            gx[i] = (float)(rng.NextDouble() - 0.5);
        }
        for (int e = 0; e < E; e++) theta[e] = -1f; // row 0 degenerate

        using var cpu = new CpuBackend();
        var c = Run(cpu, new CompositionKernelCpu(spec), theta, top, gx);
        var g = Run(gpu, new CompositionKernelIlgpu(gpu, spec), theta, top, gx);
        Assert.Equal(c.Flags, g.Flags);
        Assert.Equal(1, g.Flags[0]);
        for (int i = 0; i < c.X.Length; i++) Assert.True(Math.Abs(c.X[i] - g.X[i]) < 1e-6, $"x[{i}] {c.X[i]} vs {g.X[i]}");
        for (int b = 0; b < batch; b++)
        {
            Assert.True(Math.Abs(c.Lint[b] - g.Lint[b]) <= 1e-5 * Math.Max(1, c.Lint[b]), $"L_int[{b}] {c.Lint[b]} vs {g.Lint[b]}");
            if (c.N[b] != g.N[b]) continue; // a near-tie between two N can flip with the summation order
            for (int e = 0; e < E; e++)
            {
                float a = c.Grad[b * E + e], d = g.Grad[b * E + e];
                Assert.True(Math.Abs(a - d) <= 1e-4 * Math.Max(1, Math.Abs(a)), $"grad[{b},{e}] {a} vs {d}");
            }
        }
        Assert.True(c.N.Zip(g.N).Count(p => p.First == p.Second) >= batch - 2);
        Assert.Equal(c.Top, g.Top);
    }

    sealed record Outputs(float[] X, int[] Flags, float[] Lint, int[] N, float[] Grad, float[] Top);

    static Outputs Run(IBackend backend, ICompositionKernel kernel, float[] theta, float[] top, float[] gx)
    {
        int batch = theta.Length / E;
        using var _ = kernel;
        DeviceBuffer<float> Up(float[] v) { var b = backend.Allocate<float>(v.Length); backend.Upload<float>(v, b); return b; }
        using var tb = Up(theta); using var mb = Up(top); using var gxb = Up(gx);
        using var xb = backend.Allocate<float>(theta.Length); using var gb = backend.Allocate<float>(theta.Length);
        using var lb = backend.Allocate<float>(batch); using var fb = backend.Allocate<int>(batch); using var nb = backend.Allocate<int>(batch);
        using var topOut = backend.Allocate<float>(theta.Length);
        kernel.Forward(batch, tb, mb, xb, fb, true, lb, nb);
        kernel.Backward(batch, tb, mb, gxb, fb, 0.3f, nb, gb);
        kernel.BuildTopMask(batch, xb, 3, topOut);
        T[] Get<T>(DeviceBuffer<T> b) where T : unmanaged { var a = new T[b.Length]; backend.Download(b, a.AsSpan()); return a; }
        return new Outputs(Get(xb), Get(fb), Get(lb), Get(nb), Get(gb), Get(topOut));
    }
}
