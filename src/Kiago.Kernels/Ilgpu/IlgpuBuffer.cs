using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu;

/// <summary>
/// A device buffer of the ILGPU backend. <see cref="Memory"/> and <see cref="View"/> let other code (e.g. the
/// optimiser's fused composition kernel) launch its own kernels on <see cref="IlgpuBackend.Stream"/>.
/// </summary>
public sealed class IlgpuBuffer<T> : DeviceBuffer<T> where T : unmanaged
{
    readonly IlgpuBackend backend;

    internal IlgpuBuffer(IlgpuBackend backend, MemoryBuffer1D<T, Stride1D.Dense> memory, long length) : base(length)
    {
        this.backend = backend;
        Memory = memory;
    }

    /// <summary>The ILGPU allocation (at least one element long, even for an empty buffer).</summary>
    public MemoryBuffer1D<T, Stride1D.Dense> Memory { get; }

    /// <summary>The whole buffer as a dense 1-D view (<see cref="DeviceBuffer{T}.Length"/> elements).</summary>
    public ArrayView1D<T, Stride1D.Dense> View => Memory.View.SubView(0, Length);

    public override IBackend Backend => backend;

    public override void Dispose()
    {
        if (Memory.IsDisposed) return;
        backend.Released(Memory.LengthInBytes);
        Memory.Dispose();
    }
}
