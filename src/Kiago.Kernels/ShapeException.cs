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

    /// <summary>As <see cref="RequireLength{T}(string, string, DeviceBuffer{T}, long)"/>, naming the expected shape, e.g. [N, C, H, W] = [2, 3, 5, 5].</summary>
    public static void RequireShape<T>(string op, string name, DeviceBuffer<T> buffer, params long[] shape) where T : unmanaged
    {
        long needed = 1;
        foreach (long d in shape) needed *= d;
        if (buffer.Length < needed)
            throw new ShapeException($"{op}: buffer '{name}' holds {buffer.Length} elements, needs at least {needed} for shape {Format(shape)}");
    }

    /// <summary>A host-side array (weights, bias) whose length must be exact.</summary>
    public static void RequireExact(string op, string name, int actual, params long[] shape)
    {
        long needed = 1;
        foreach (long d in shape) needed *= d;
        if (actual != needed)
            throw new ShapeException($"{op}: {name} holds {actual} elements, expected {needed} for shape {Format(shape)}");
    }

    public static string Format(params long[] shape) => "[" + string.Join(", ", shape) + "]";
}
