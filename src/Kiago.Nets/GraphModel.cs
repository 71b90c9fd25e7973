using Kiago.Kernels;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets;

/// <summary>
/// A predictor loaded from a .kgw file, running on a backend: the featuriser its kind calls for (periodic-table image
/// for tc-resnet, the 86-vector for elemnet), then the imported graph. Implements the optimiser's
/// <see cref="ICompositionModel"/> seam: input (batch, 118) atom fractions, one output per composition.
/// </summary>
public sealed class GraphModel : ICompositionModel
{
    readonly Featuriser featuriser;
    readonly GraphExecutor executor;
    DeviceBuffer<float>? features, dFeatures, dComposition, dOutput;
    int capacity;

    public GraphModel(WeightModel model, IBackend backend)
    {
        Model = model;
        Backend = backend;
        var expected = Featuriser.Layout(model.Kind).Shape;
        if (!model.Graph.InputShape.SequenceEqual(expected))
            throw new GraphException($"a {ModelKinds.Name(model.Kind)} model takes per-sample input {GraphOps.Show(expected)}, " +
                $"but the graph's input '{model.Graph.InputName}' is {GraphOps.Show(model.Graph.InputShape)}");
        executor = new GraphExecutor(model.Graph, backend);
        if (executor.OutputSize != 1)
        {
            executor.Dispose();
            throw new GraphException($"a composition model gives one value per sample, but the graph's output '{model.Graph.OutputName}' " +
                $"has per-sample shape {GraphOps.Show(executor.OutputShape)}");
        }
        featuriser = new Featuriser(model.Kind, backend);
    }

    /// <summary>Reads, checks and prepares a .kgw file on <paramref name="backend"/>.</summary>
    public static GraphModel Load(string path, IBackend backend)
    {
        var model = WeightFile.Read(path);
        try
        {
            return new GraphModel(model, backend);
        }
        catch (GraphException e)
        {
            throw new WeightFileException(path, e.Message);
        }
    }

    public WeightModel Model { get; }
    public ModelKind Kind => Model.Kind;
    public string OutputName => Model.OutputName;
    public string OutputUnit => Model.OutputUnit;
    public IBackend Backend { get; }
    public Featuriser Featuriser => featuriser;

    void EnsureCapacity(int batch, bool backward)
    {
        if (batch > capacity)
        {
            foreach (var b in new[] { features, dFeatures, dComposition, dOutput }) b?.Dispose();
            features = Backend.Allocate<float>((long)batch * featuriser.OutputSize);
            dFeatures = dComposition = dOutput = null;
            capacity = batch;
        }
        if (backward && dFeatures is null)
        {
            dFeatures = Backend.Allocate<float>((long)capacity * featuriser.OutputSize);
            dComposition = Backend.Allocate<float>((long)capacity * Featuriser.CompositionColumns);
            dOutput = Backend.Allocate<float>(capacity);
        }
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        ShapeException.RequireLength("GraphModel.Forward", "x", x, (long)batch * Featuriser.CompositionColumns);
        EnsureCapacity(batch, backward: false);
        featuriser.Forward(batch, x, features!);
        executor.Forward(batch, features!, y);
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        ShapeException.RequireLength("GraphModel.ForwardBackward", "x", x, (long)batch * Featuriser.CompositionColumns);
        ShapeException.RequireLength("GraphModel.ForwardBackward", "dxAccumulate", dxAccumulate, (long)batch * Featuriser.CompositionColumns);
        EnsureCapacity(batch, backward: true);
        featuriser.Forward(batch, x, features!);
        Backend.Fill(dOutput!, gradScale, batch);
        executor.ForwardBackward(batch, features!, y, dOutput!, dFeatures!);
        featuriser.Backward(batch, dFeatures!, dComposition!);
        Backend.Axpy(1f, dComposition!, dxAccumulate, (long)batch * Featuriser.CompositionColumns);
    }

    public void Dispose()
    {
        foreach (var b in new[] { features, dFeatures, dComposition, dOutput }) b?.Dispose();
        executor.Dispose();
        featuriser.Dispose();
    }
}
