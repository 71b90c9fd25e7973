using Kiago.Kernels.Cpu;

namespace Kiago.Kernels.Composition;

/// <summary>The one place that turns a CPU backend buffer into its host array (CPU kernels only).</summary>
internal static class HostAccess
{
    public static T[] Array<T>(DeviceBuffer<T> buffer) where T : unmanaged => buffer switch
    {
        CpuBuffer<T> cpu => cpu.Array,
        _ => throw new NotSupportedException(
            $"the CPU composition kernel needs a CpuBackend buffer; got {buffer.GetType().Name} from backend '{buffer.Backend.DeviceName}'"),
    };
}
