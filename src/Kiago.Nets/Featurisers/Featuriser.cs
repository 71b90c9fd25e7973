using Kiago.Autodiff;
using Kiago.Kernels;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Featurisers;

/// <summary>
/// The map from a composition (batch, 118 atom fractions) to a model's input, as tape ops (so its adjoint comes with
/// it). Periodic-table image: a ScatterColumns (each element owns one cell; backward a GatherColumns), viewed as
/// (4, 7, 32). ElemNet: a GatherColumns of the 86 accepted elements (backward a ScatterColumns: dropped elements get
/// zero gradient). Fractions: the composition itself (no op). The index map is uploaded once.
/// </summary>
public sealed class Featuriser : IDisposable
{
    public const int CompositionColumns = 118;

    readonly DeviceBuffer<int> index;
    readonly bool scatter;

    public Featuriser(ModelKind kind, IBackend backend)
    {
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

    /// <summary>
    /// The layout of <paramref name="kind"/>: accepted elements, per-sample output shape, and the index map — for the
    /// image (scatter) map[Z−1] = flat cell of element Z; for ElemNet (gather) map[j] = Z−1 of input j.
    /// </summary>
    public static (IReadOnlyList<int> Accepted, int[] Shape, bool Scatter, int[] Map) Layout(ModelKind kind) => kind switch
    {
        ModelKind.TcResNet => (Enumerable.Range(1, 118).ToArray(), PeriodicTableLayout.ImageShape, true,
            Enumerable.Range(1, 118).Select(PeriodicTableLayout.FlatIndex).ToArray()),
        ModelKind.ElemNet => (ElemNetLayout.Elements, [ElemNetLayout.InputCount], false,
            ElemNetLayout.Elements.Select(z => z - 1).ToArray()),
        ModelKind.Fractions => (Enumerable.Range(1, 118).ToArray(), [CompositionColumns], false, Enumerable.Range(0, 118).ToArray()),
        ModelKind.Denoiser => (Enumerable.Range(1, DenoiserLayout.Elements).ToArray(), [DenoiserLayout.InputColumns], false,
            Enumerable.Range(0, DenoiserLayout.Elements).ToArray()),
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

    /// <summary>x [N, 118] → model input [N, ...OutputShape] on the tape.</summary>
    public Tensor Apply(Tape tape, Tensor x)
    {
        if (Kind == ModelKind.Fractions) return x;
        if (!scatter) return tape.GatherColumns(x, index, OutputSize);
        return tape.Reshape(tape.ScatterColumns(x, index, OutputSize), [x.Batch, .. OutputShape]);
    }

    public void Dispose() => index.Dispose();
}
