using Kiago.Kernels.Ilgpu;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>Looks for a CUDA device once per test run; the reason there is none becomes the skip message.</summary>
public static class CudaAvailability
{
    static readonly Lazy<string?> NoCudaReason = new(() =>
    {
        using var backend = IlgpuBackend.TryCreateCuda(out var reason);
        return backend is null ? $"no CUDA device: {reason}" : null;
    });

    /// <summary>Null when a CUDA device is present, else why the CUDA tests are skipped.</summary>
    public static string? SkipReason => NoCudaReason.Value;
}

/// <summary>A fact that runs only with a CUDA device and is reported as skipped, with the reason, otherwise.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaAvailability.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>A theory that runs only with a CUDA device and is reported as skipped, with the reason, otherwise.</summary>
public sealed class CudaTheoryAttribute : TheoryAttribute
{
    public CudaTheoryAttribute()
    {
        if (CudaAvailability.SkipReason is { } reason) Skip = reason;
    }
}
