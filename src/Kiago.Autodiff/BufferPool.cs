using Kiago.Kernels;

namespace Kiago.Autodiff;

/// <summary>Backend buffers keyed by exact length: rented during a step, returned on release or Reset.</summary>
internal sealed class BufferPool<T>(IBackend backend) : IDisposable where T : unmanaged
{
    readonly Dictionary<long, Stack<DeviceBuffer<T>>> free = new();
    readonly List<DeviceBuffer<T>> all = new();

    public int Allocations => all.Count;

    public long AllocatedElements { get; private set; }

    public DeviceBuffer<T> Rent(long length)
    {
        if (free.TryGetValue(length, out var stack) && stack.Count > 0) return stack.Pop();
        var buffer = backend.Allocate<T>(length);
        all.Add(buffer);
        AllocatedElements += length;
        return buffer;
    }

    public void Return(DeviceBuffer<T> buffer)
    {
        if (!free.TryGetValue(buffer.Length, out var stack)) free[buffer.Length] = stack = new Stack<DeviceBuffer<T>>();
        stack.Push(buffer);
    }

    public void Dispose()
    {
        foreach (var buffer in all) buffer.Dispose();
        all.Clear();
        free.Clear();
    }
}
