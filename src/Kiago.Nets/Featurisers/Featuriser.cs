using Kiago.Autodiff;
using Kiago.Kernels;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Featurisers;

/// <summary>
/// The map from a composition (batch, 118 atom fractions) to a model's input, as tape ops (so its adjoint comes with
/// it). Periodic-table image: a ScatterColumns (each element owns one cell; backward a GatherColumns), viewed as
/// (4, 7, 32). ElemNet: a GatherColumns of the 86 accepted elements (backward a ScatterColumns: dropped elements get
/// zero gradient). Fractions: the composition itself (no op). Tokens: the up to T largest elements' atomic numbers and
/// fractions (a Tokens tape op; backward: the fractions' gradient to their columns). The index map is uploaded once.
/// </summary>
public sealed class Featuriser : IDisposable
{
    public const int CompositionColumns = 118;

    readonly DeviceBuffer<int> index;
    readonly bool scatter;

    /// <summary>The featuriser of <paramref name="kind"/>; a tokens model also needs its graph's input shape [2, T].</summary>
    public Featuriser(ModelKind kind, IBackend backend, int[]? inputShape = null)
    {
        Kind = kind;
        (AcceptedElements, OutputShape, scatter, int[] map) = Layout(kind);
        if (kind == ModelKind.Tokens)
        {
            if (inputShape is null || !InputShapeFits(kind, inputShape))
                throw new ArgumentException($"a tokens featuriser needs the model's input shape [2, T], got {(inputShape is null ? "none" : "[" + string.Join(",", inputShape) + "]")}");
            OutputShape = inputShape;
        }
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
        // the token count is the model's own (InputShapeFits); [2, 8] is the shape training/export_byo_fixtures.py uses
        ModelKind.Tokens => (Enumerable.Range(1, 118).ToArray(), [2, DefaultTokens], false, []),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Token slots of a tokens model exported without a say (the BYO fixture's).</summary>
    public const int DefaultTokens = 8;

    /// <summary>Whether a graph input of per-sample shape <paramref name="shape"/> is what <paramref name="kind"/>'s featuriser produces.</summary>
    public static bool InputShapeFits(ModelKind kind, int[] shape) =>
        kind == ModelKind.Tokens ? shape is [2, >= 1] : shape.SequenceEqual(Layout(kind).Shape);

    /// <summary>The input shapes <paramref name="kind"/> accepts, for messages.</summary>
    public static string ExpectedShape(ModelKind kind) => kind == ModelKind.Tokens ? "[2,T] (T ≥ 1 token slots)" : Graph.GraphOps.Show(Layout(kind).Shape);

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
        if (Kind == ModelKind.Tokens) return tape.Tokens(x, OutputShape[1]);
        if (!scatter) return tape.GatherColumns(x, index, OutputSize);
        return tape.Reshape(tape.ScatterColumns(x, index, OutputSize), [x.Batch, .. OutputShape]);
    }

    public void Dispose() => index.Dispose();
}
