using Kiago.Kernels;

namespace Kiago.Design.CompositionMap;

/// <summary>A buffer whose storage is host memory the CPU kernels can read and write in place.</summary>
public interface IHostBuffer<T> where T : unmanaged
{
    T[] Array { get; }
}

/// <summary>The one place that turns a host-resident device buffer into a span (CPU kernels only).</summary>
public static class HostAccess
{
    public static T[] Array<T>(DeviceBuffer<T> buffer) where T : unmanaged => buffer switch
    {
        IHostBuffer<T> host => host.Array,
        _ => throw new NotSupportedException(
            $"the CPU composition kernel needs a host buffer; got {buffer.GetType().Name} from backend '{buffer.Backend.DeviceName}'"),
    };
}
