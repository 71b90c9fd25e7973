using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>The shared op suite on ILGPU's CPU accelerator (the very kernels CUDA runs), one backend for the class.</summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuBackendOpTests(IlgpuCpuFixture fixture) : BackendOpTests
{
    readonly IlgpuCpuFixture fixture = fixture;

    protected override IBackend CreateBackend() =>
        IlgpuCpuFixture.Current ?? throw new InvalidOperationException("the ILGPU CPU fixture is not set up");

    protected override void ReleaseBackend(IBackend backend) => GC.KeepAlive(fixture); // the fixture owns it

    /// <summary>The largest cases only repeat the double reference's cost; IlgpuOpTests and the parity test cover the tiling.</summary>
    protected override bool ReducedSizes => true;
}

/// <summary>
/// SIMD CPU backend vs ILGPU CPU accelerator on the same seeded random inputs, every op (<see cref="BackendParity"/>):
/// outputs agree within 1e-5·√K relative to the output scale for reductions of length K, 1e-6 elementwise.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class SimdVsIlgpuParityTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Every_op_agrees_between_simd_and_ilgpu_cpu()
    {
        using var simd = new CpuBackend(threads: 2);
        var results = BackendParity.Run(simd, fixture.Backend, ParitySize.Small);
        Assert.True(results.Count >= 30, $"only {results.Count} comparisons");
        Assert.All(results, r => Assert.True(r.Passed, r.ToString()));
    }

    [Fact]
    public void Parity_check_notices_a_wrong_output()
    {
        // A backend whose Relu is wrong (returns x unchanged) must fail the comparison: the check can fail.
        using var simd = new CpuBackend(threads: 1);
        using var broken = new WrongReluBackend(new CpuBackend(threads: 1));
        var results = BackendParity.Run(simd, broken, ParitySize.Small);
        Assert.Contains(results, r => !r.Passed && r.Case.Contains("relu"));
    }
}
