using Kiago.Kernels;

namespace Kiago.Autodiff;

/// <summary>
/// A float tensor on a backend: a buffer plus an NCHW / row-major shape (batch first). Tensors made by a
/// <see cref="Tape"/> live in its pool and are valid until <see cref="Tape.Reset"/>; views (Reshape/Flatten)
/// share their base's buffer.
/// </summary>
public sealed class Tensor
{
    internal Tensor(Storage storage, int[] shape, bool requiresGrad)
    {
        Storage = storage;
        Shape = shape;
        Length = 1;
        foreach (int d in shape) Length *= d;
        RequiresGrad = requiresGrad;
    }

    internal Storage Storage { get; }

    public DeviceBuffer<float> Buffer => Storage.Buffer ?? throw new InvalidOperationException(
        $"tensor {ShapeText} was released: its last reader has run (call Tape.Keep to read it after the forward pass)");

    public int[] Shape { get; }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Number of elements (product of the shape).</summary>
    public long Length { get; }

    /// <summary>The leading (batch) dimension.</summary>
    public int Batch => Shape[0];

    /// <summary>Elements per batch row (Length / Batch).</summary>
    public int RowLength => Shape.Length == 0 || Shape[0] == 0 ? 0 : (int)(Length / Shape[0]);

    /// <summary>True when a gradient w.r.t. this tensor is wanted (a leaf that asked, or anything computed from one).</summary>
    public bool RequiresGrad { get; }

    /// <summary>d(seed·output)/d(this) after <see cref="Tape.Backward"/>; null when no gradient reached it. Valid until Reset.</summary>
    public DeviceBuffer<float>? Grad { get; internal set; }

    internal bool GradAdopted { get; set; }
}

/// <summary>The buffer behind one or more tensors (a base and its views), with its lifetime bookkeeping.</summary>
internal sealed class Storage(DeviceBuffer<float> buffer, int id, bool pooled)
{
    public DeviceBuffer<float>? Buffer { get; set; } = buffer;
    public int Id { get; } = id;
    /// <summary>False for leaves: the caller owns the buffer.</summary>
    public bool Pooled { get; } = pooled;
    /// <summary>A backward node reads it, so it stays until Reset.</summary>
    public bool KeepForBackward { get; set; }
    /// <summary>The caller asked to read it after the forward pass.</summary>
    public bool Kept { get; set; }
}
