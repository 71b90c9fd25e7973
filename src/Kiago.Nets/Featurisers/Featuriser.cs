using Kiago.Kernels;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Featurisers;

/// <summary>
/// The map from a composition (batch, 118 atom fractions) to a model's input, on a backend, with its adjoint.
/// Periodic-table image: a ScatterColumns (each element owns one cell), backward a GatherColumns. ElemNet: a
/// GatherColumns of the 86 accepted elements, backward a ScatterColumns (dropped elements get zero gradient).
/// The index map is uploaded once.
/// </summary>
public sealed class Featuriser : IDisposable
{
    public const int CompositionColumns = 118;

    readonly IBackend backend;
    readonly DeviceBuffer<int> index;
    readonly bool scatter;

    public Featuriser(ModelKind kind, IBackend backend)
    {
        this.backend = backend;
        Kind = kind;
        (AcceptedElements, OutputShape, scatter, int[] map) = Layout(kind);
        OutputSize = OutputShape.Aggregate(1, (a, d) => a * d);
        index = backend.Allocate<int>(map.Length);
        backend.Upload<int>(map, index);
    }

    public ModelKind Kind { get; }

    /// <summary>Per-sample shape of the model input this featuriser produces.</summary>
    public int[] OutputShape { get; }

    public int OutputSize { get; }

    /// <summary>Atomic numbers the model sees; other elements are dropped.</summary>
    public IReadOnlyList<int> AcceptedElements { get; }

    /// <summary>The index map: image cell of element Z−1 (image), or the 0-based element index of input j (ElemNet).</summary>
    public static (IReadOnlyList<int> Accepted, int[] Shape, bool Scatter, int[] Map) Layout(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => (Enumerable.Range(1, 118).ToArray(), PeriodicTableLayout.ImageShape, true,
            Enumerable.Range(1, 118).Select(PeriodicTableLayout.FlatIndex).ToArray()),
        ModelKind.ElemNet => (ElemNetLayout.Elements, [ElemNetLayout.InputCount], false,
            ElemNetLayout.Elements.Select(z => z - 1).ToArray()),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Atomic numbers of elements present in <paramref name="composition"/> (118 fractions) that this model ignores.</summary>
    public IReadOnlyList<int> DroppedElements(ReadOnlySpan<float> composition) => DroppedElements(Kind, composition);

    public static IReadOnlyList<int> DroppedElements(ModelKind kind, ReadOnlySpan<float> composition)
    {
        if (composition.Length != CompositionColumns)
            throw new ArgumentException($"composition has {composition.Length} entries, expected {CompositionColumns}");
        var accepted = Layout(kind).Accepted;
        var dropped = new List<int>();
        for (int i = 0; i < CompositionColumns; i++)
            if (composition[i] != 0 && !accepted.Contains(i + 1)) dropped.Add(i + 1);
        return dropped;
    }

    /// <summary>features[b] = featurise(x[b]) for b &lt; batch (x: batch × 118; features: batch × OutputSize).</summary>
    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> features)
    {
        if (scatter) backend.ScatterColumns(batch, x, CompositionColumns, index, features, OutputSize);
        else backend.GatherColumns(batch, x, CompositionColumns, index, features, OutputSize);
    }

    /// <summary>dx[b] = featuriserᵀ · dFeatures[b] (overwrites dx, batch × 118).</summary>
    public void Backward(int batch, DeviceBuffer<float> dFeatures, DeviceBuffer<float> dx)
    {
        if (scatter) backend.GatherColumns(batch, dFeatures, OutputSize, index, dx, CompositionColumns);
        else backend.ScatterColumns(batch, dFeatures, OutputSize, index, dx, CompositionColumns);
    }

    public void Dispose() => index.Dispose();
}
