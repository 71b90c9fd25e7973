namespace Kiago.Kernels.Ilgpu;

/// <summary>CUDA was asked for (<c>--device cuda</c>) but no usable CUDA device exists; the message says why.</summary>
public sealed class NoCudaDeviceException(string reason)
    : InputException($"no CUDA device found: {reason}. Use --device cpu (SIMD) or --device ilgpu-cpu instead.")
{
    public string Reason { get; } = reason;
}
