using Kiago.Kernels.Composition;
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

    /// <summary>The composition kernel's own ILGPU kernels (they share Kiago.Kernels with every other op).</summary>
    static IEnumerable<System.Reflection.MethodInfo> CompositionKernelMethods() =>
        IlgpuKernelRegistry.Kernels(typeof(CompositionKernelIlgpu).Assembly).Where(k => k.DeclaringType == typeof(CompositionKernelIlgpu));

    public static TheoryData<string> KernelNames => new(CompositionKernelMethods().Select(IlgpuKernelRegistry.Name));

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_sm90(string name)
    {
        var kernel = CompositionKernelMethods().Single(k => IlgpuKernelRegistry.Name(k) == name);
        var ptx = PtxCompiler.Compile(kernel);
        Assert.Contains(".entry", ptx);
        Assert.DoesNotContain(".extern .func", ptx);
    }

    [Fact]
    public void Registry_lists_the_three_composition_kernels() =>
        Assert.Equal(3, CompositionKernelMethods().Count());

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
        var c = OptimiserParity.Run(new CpuBackend());
        var g = OptimiserParity.Run(fixture.Backend, disposeBackend: false);
        for (int i = 0; i < c.FinalX.Length; i++) Assert.True(Math.Abs(c.FinalX[i] - g.FinalX[i]) < 2e-3, $"x[{i}] {c.FinalX[i]} vs {g.FinalX[i]}");
        for (int b = 0; b < c.Candidates; b++) Assert.True(Math.Abs(c.FinalTc[b] - g.FinalTc[b]) < 0.05, $"Tc[{b}] {c.FinalTc[b]} vs {g.FinalTc[b]}");
    }

    static void MatchesCpu(IlgpuBackend gpu, IntegerDistance distance)
    {
        var results = CompositionParity.Run(gpu, distance);
        Assert.All(results, r => Assert.True(r.Passed, r.ToString()));
    }

    [Fact]
    public void Round_half_even_equals_MathF_Round()
    {
        var rng = new Random(5);
        var values = Enumerable.Range(-60, 121).Select(i => i * 0.5f) // every tie from -30 to 30
            .Concat(Enumerable.Range(0, 20000).Select(_ => (float)(rng.NextDouble() * 60 - 30)))
            .Concat([0.49999997f, 0.50000006f, 2.4999998f, -1.5000001f, 1e-30f, -0f, 29.999998f]);
        foreach (float v in values)
            Assert.Equal(MathF.Round(v), CompositionKernelIlgpu.RoundHalfEven(v));
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_ptx_has_no_float_rounding_trick(string name)
    {
        // MathF.Round compiled by ILGPU = v + copysign(2^23, v) - copysign(2^23, v), which the CUDA JIT folds to v.
        var kernel = CompositionKernelMethods().Single(k => IlgpuKernelRegistry.Name(k) == name);
        Assert.DoesNotContain("0f4B000000", PtxCompiler.Compile(kernel));
    }
}
