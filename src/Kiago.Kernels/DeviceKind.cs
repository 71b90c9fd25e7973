namespace Kiago.Kernels;

/// <summary>Which engine runs the kernels. Reported in every run's output.</summary>
public enum DeviceKind
{
    /// <summary>Hand-written SIMD C# (Vector256 + FMA, scalar fallback), multi-threaded: the production CPU path.</summary>
    Cpu,
    /// <summary>ILGPU kernels on ILGPU's CPU accelerator: same kernels as CUDA, for tests and debugging (slow).</summary>
    IlgpuCpu,
    /// <summary>ILGPU kernels on an NVIDIA GPU.</summary>
    Cuda,
}
