namespace Kiago.Kernels.Ilgpu;

/// <summary>
/// The accelerator could not allocate a buffer. The message says how much was asked for, how much is free,
/// and — when the caller supplies its per-candidate footprint — the largest batch that would fit. Caused by the size
/// the user asked for (--candidates, --batch), so an input error (exit 2), not a defect.
/// </summary>
public sealed class DeviceOutOfMemoryException(string message, long requestedBytes, long freeBytes, long totalBytes, Exception? inner = null)
    : InputException(message, inner)
{
    public long RequestedBytes { get; } = requestedBytes;
    public long FreeBytes { get; } = freeBytes;
    public long TotalBytes { get; } = totalBytes;

    internal static DeviceOutOfMemoryException ForAllocation(string device, long requestedBytes, long freeBytes, long totalBytes, Exception inner) =>
        new($"out of memory on {device}: a buffer of {Mib(requestedBytes)} could not be allocated " +
            $"({Mib(freeBytes)} free of {Mib(totalBytes)}); use fewer candidates (--candidates) or another device",
            requestedBytes, freeBytes, totalBytes, inner);

    /// <summary>
    /// An allocation failed while buffers for <paramref name="batch"/> candidates were being allocated: the buffers so far
    /// (plus the failed one) give a lower bound on the bytes per candidate, hence an upper bound on the batch that fits.
    /// </summary>
    internal static DeviceOutOfMemoryException ForPlannedBatch(string device, int batch, long requestedBytes, long weightBytes,
        long bufferBytes, long freeBytes, long totalBytes, Exception inner)
    {
        long perCandidate = Math.Max(1, (bufferBytes + requestedBytes + batch - 1) / batch);
        int largest = DeviceMemory.LargestBatch(weightBytes, perCandidate, freeBytes + weightBytes + bufferBytes);
        string advice = largest > 0
            ? $"at most {largest} candidates fit (--candidates {largest})"
            : $"not even one candidate fits beside {Mib(weightBytes)} of weights";
        return new($"out of memory on {device}: a buffer of {Mib(requestedBytes)} could not be allocated " +
                   $"({Mib(freeBytes)} free of {Mib(totalBytes)}); the {batch}-candidate buffers need at least " +
                   $"{Mib(perCandidate)} per candidate beside {Mib(weightBytes)} of weights, so {advice}",
            requestedBytes, freeBytes, totalBytes, inner);
    }

    /// <summary>
    /// A batch of <paramref name="batch"/> candidates needs fixedBytes + batch·bytesPerCandidate, more than is free.
    /// </summary>
    public static DeviceOutOfMemoryException ForBatch(string device, int batch, long fixedBytes, long bytesPerCandidate, long freeBytes, long totalBytes)
    {
        long needed = fixedBytes + batch * bytesPerCandidate;
        int largest = DeviceMemory.LargestBatch(fixedBytes, bytesPerCandidate, freeBytes);
        string advice = largest > 0
            ? $"the largest batch that fits is {largest} candidates (--candidates {largest})"
            : $"not even one candidate fits ({Mib(fixedBytes)} for weights and fixed buffers)";
        return new($"out of memory on {device}: {batch} candidates need {Mib(needed)} " +
                   $"({Mib(bytesPerCandidate)} per candidate + {Mib(fixedBytes)} fixed) but only {Mib(freeBytes)} " +
                   $"of {Mib(totalBytes)} is free; {advice}", needed, freeBytes, totalBytes);
    }

    internal static string Mib(long bytes) => $"{bytes / (1024.0 * 1024.0):F1} MiB";
}

/// <summary>Batch sizing against device memory.</summary>
public static class DeviceMemory
{
    /// <summary>Head-room kept free for the driver, kernels' local memory and fragmentation.</summary>
    public const double Headroom = 0.05;

    /// <summary>Largest batch with fixedBytes + batch·bytesPerCandidate ≤ (1 − Headroom)·freeBytes; 0 if none.</summary>
    public static int LargestBatch(long fixedBytes, long bytesPerCandidate, long freeBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fixedBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerCandidate);
        long usable = (long)(freeBytes * (1 - Headroom)) - fixedBytes;
        return usable <= 0 ? 0 : (int)Math.Min(int.MaxValue, usable / bytesPerCandidate);
    }
}
