namespace Kiago.Kernels;

/// <summary>
/// A flat array of <typeparamref name="T"/> owned by one backend. Buffers are allocated once and reused;
/// they are only valid with the backend that made them.
/// </summary>
public abstract class DeviceBuffer<T> : IDisposable where T : unmanaged
{
    protected DeviceBuffer(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "buffer length must be >= 0");
        Length = length;
    }

    public long Length { get; }

    public abstract IBackend Backend { get; }

    public abstract void Dispose();
}
