using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Kiago.Kernels.Ilgpu;

/// <summary>
/// Compiles a kernel to PTX without a GPU (engine-notes §5). Each call uses a fresh <see cref="Context"/>, because
/// one failed compilation poisons the context for every later kernel.
/// </summary>
public static class PtxCompiler
{
    /// <summary>
    /// The PTX text of <paramref name="kernel"/> (an <see cref="IlgpuKernelAttribute"/> kernel, implicitly or
    /// explicitly grouped as its attribute says), for sm_90 by default.
    /// </summary>
    public static string Compile(MethodInfo kernel, int smMajor = 9, int smMinor = 0)
    {
        using var context = Context.Create(b => b.Default().Optimize(OptimizationLevel.O2).EnableAlgorithms());
        // PTX ISA 8.0 is the oldest that knows sm_90; the driver JIT-compiles it for newer cards.
        using var backend = new PTXBackend(context, new CudaArchitecture(smMajor, smMinor), new CudaInstructionSet(8, 0), null!);
        var entry = IlgpuKernelAttribute.IsExplicitlyGrouped(kernel)
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }
}
