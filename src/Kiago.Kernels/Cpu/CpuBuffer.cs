namespace Kiago.Kernels.Cpu;

/// <summary>A host array owned by a <see cref="CpuBackend"/>. Pinned, so kernels may take its address.</summary>
public sealed class CpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    readonly CpuBackend backend;

    internal CpuBuffer(CpuBackend backend, long length) : base(length)
    {
        if (length > System.Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"cpu buffers hold at most {System.Array.MaxLength} elements");
        this.backend = backend;
        Array = GC.AllocateArray<T>((int)length, pinned: true);
    }

    /// <summary>The elements (zero-filled at allocation). Direct access for fused host-side kernels.</summary>
    public T[] Array { get; }

    public Span<T> Span => Array;

    public override IBackend Backend => backend;

    public override void Dispose() { }
}
