using System.Reflection;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>
/// Every ILGPU kernel of the backend (from <see cref="IlgpuKernelRegistry"/>, the list the backend's loader
/// enforces) must compile to PTX for sm_90, so CI catches kernels that would not build for the GPU without one.
/// </summary>
public sealed class PtxCompileTests
{
    /// <summary>Every Kiago assembly that may hold kernels (all live in Kiago.Kernels today; the others are checked so none slips in).</summary>
    static IEnumerable<MethodInfo> AllKernels() =>
        new[] { "Kiago.Kernels", "Kiago.Autodiff", "Kiago.Nets", "Kiago.Design" }
            .Select(Assembly.Load)
            .SelectMany(a => IlgpuKernelRegistry.Kernels(a));

    static string Name(MethodInfo kernel) => $"{kernel.DeclaringType?.Assembly.GetName().Name}: {IlgpuKernelRegistry.Name(kernel)}";

    public static TheoryData<string> KernelNames => new(AllKernels().Select(Name));

    static MethodInfo Kernel(string name) => AllKernels().Single(k => Name(k) == name);

    [Fact]
    public void Registry_lists_the_backend_kernels()
    {
        var names = IlgpuKernelRegistry.Kernels().Select(IlgpuKernelRegistry.Name).ToList();
        Assert.Contains("IlgpuGemm.GemmKernel", names);
        Assert.Contains("IlgpuConv2d.ForwardKernel", names);
        Assert.Contains("IlgpuConv2d.BackwardInputKernel", names);
        Assert.Contains("IlgpuAdam.AdamKernel", names);
        foreach (var depth in new[] { "K16", "K8" })
            foreach (var prefetch in new[] { "NoPrefetch", "Prefetch" })
                foreach (var reads in new[] { "ScalarReads", "Float4Reads" })
                {
                    Assert.Contains($"TiledGemm.TiledKernel<{depth},{prefetch},{reads}>", names);
                    Assert.Contains($"TiledConv.TiledConvKernel<{depth},{prefetch},{reads}>", names);
                }
        Assert.Equal(16, names.Count(n => n.StartsWith("TiledGemm.", StringComparison.Ordinal) || n.StartsWith("TiledConv.", StringComparison.Ordinal)));
        Assert.True(names.Count >= 15, $"only {names.Count} kernels registered: {string.Join(", ", names)}");
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_compiles_to_ptx_for_sm90(string name)
    {
        var ptx = PtxCompiler.Compile(Kernel(name)); // a fresh Context per kernel: a failure poisons its context
        Assert.Contains(".entry", ptx);
        Assert.Contains(".target sm_", ptx);
        Assert.DoesNotContain(".extern .func", ptx); // e.g. MathF.FusedMultiplyAdd: unresolved at load time
    }

    public static TheoryData<string> TiledKernelNames =>
        new(AllKernels().Where(k => k.DeclaringType?.Name is "TiledGemm" or "TiledConv").Select(Name));

    [Theory]
    [MemberData(nameof(TiledKernelNames))]
    public void Tiled_kernels_stage_tiles_in_shared_memory_between_barriers(string name)
    {
        var kernel = Kernel(name);
        Assert.True(IlgpuKernelAttribute.IsExplicitlyGrouped(kernel));
        bool vector = kernel.GetGenericArguments().Any(a => a.Name == "Float4Reads");
        var ptx = PtxCompiler.Compile(kernel);
        if (Environment.GetEnvironmentVariable("KIAGO_DUMP_PTX") is { Length: > 0 } dump)
            File.WriteAllText(Path.Combine(dump, IlgpuKernelRegistry.Name(kernel).Replace('<', '_').Replace('>', '_').Replace(',', '_') + ".ptx"), ptx);
        Assert.Contains(".shared", ptx);
        Assert.Contains(vector ? "ld.shared.v4.f32" : "ld.shared.f32", ptx);
        Assert.Contains("st.shared.f32", ptx);
        Assert.Contains("bar.sync", ptx);
        Assert.DoesNotContain(".extern", ptx);
        Assert.DoesNotContain(".local", ptx); // the 8×8 accumulators stay in registers, not in local arrays
        Assert.DoesNotContain("atom.", ptx); // deterministic: no atomics
        if (vector)
        {
            Assert.Contains("ld.shared.v4.f32", ptx); // the vector layout's float4 reads
            Assert.Contains(".shared .align 16", ptx);
        }
    }

    [Fact]
    public void Loading_a_grouped_kernel_as_implicit_and_vice_versa_is_refused()
    {
        using var backend = IlgpuBackend.CreateCpu();
        var grouped = IlgpuKernelRegistry.Kernels().First(k => IlgpuKernelRegistry.Name(k).StartsWith("TiledGemm.TiledKernel<", StringComparison.Ordinal));
        var asImplicit = Delegate.CreateDelegate(typeof(Action<Kiago.Kernels.Ilgpu.Ops.GemmShape, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>, ILGPU.ArrayView<float>>), grouped);
        Assert.Throws<InvalidOperationException>(() => backend.LoadKernel<Action<ILGPU.Runtime.AcceleratorStream, ILGPU.Index1D>>(asImplicit));
        var e = Assert.Throws<InvalidOperationException>(() =>
            backend.LoadGroupedKernel<Action<ILGPU.Runtime.AcceleratorStream, ILGPU.KernelConfig, ILGPU.ArrayView<float>>>(Unmarked));
        Assert.Contains("ExplicitlyGrouped", e.Message);
    }

    [Fact]
    public void Loading_an_unregistered_kernel_is_refused()
    {
        using var backend = IlgpuBackend.CreateCpu();
        var e = Assert.Throws<InvalidOperationException>(() =>
            backend.LoadKernel<Action<ILGPU.Runtime.AcceleratorStream, ILGPU.Index1D, ILGPU.ArrayView<float>>>(Unmarked));
        Assert.Contains("[IlgpuKernel]", e.Message);
    }

    static void Unmarked(ILGPU.Index1D i, ILGPU.ArrayView<float> x) => x[i] = 0;
}
