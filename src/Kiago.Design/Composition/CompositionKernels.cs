using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Design.CompositionMap;

/// <summary>The composition kernel that runs on a given backend.</summary>
public static class CompositionKernels
{
    public static Func<CompositionSpec, ICompositionKernel> For(IBackend backend) => backend switch
    {
        CpuBackend cpu => spec => new CompositionKernelCpu(spec, cpu.Threads), // --threads bounds the kernel like the backend
        IlgpuBackend ilgpu => spec => new CompositionKernelIlgpu(ilgpu, spec),
        _ => throw new NotSupportedException($"no composition kernel for backend '{backend.DeviceName}'"),
    };
}
