namespace Kiago.Kernels;

/// <summary>An op was given buffers or shapes that do not fit; the message names the op and both shapes.</summary>
public sealed class ShapeException(string message) : ArgumentException(message)
{
    public static ShapeException Mismatch(string op, string what, string expected, string actual) =>
        new($"{op}: {what} has shape {actual}, expected {expected}");

    public static void RequireLength<T>(string op, string name, DeviceBuffer<T> buffer, long needed) where T : unmanaged
    {
        if (buffer.Length < needed)
            throw new ShapeException($"{op}: buffer '{name}' holds {buffer.Length} elements, needs at least {needed}");
    }
}
