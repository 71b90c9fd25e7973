using Kiago.Autodiff;
using Kiago.Kernels;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets;

/// <summary>
/// A predictor loaded from a .kgw file, running on a backend through the autodiff tape: the featuriser its kind calls
/// for (periodic-table image for tc-resnet, the 86-vector for elemnet), then the imported graph. Implements the
/// optimiser's <see cref="ICompositionModel"/> seam: input (batch, 118) atom fractions, one output per composition.
/// Prediction uses a forward-only tape; the optimiser path a recording tape. Each tape reuses its buffers from one
/// call to the next (same batch size → no new allocations).
/// </summary>
public sealed class GraphModel : ICompositionModel
{
    readonly Featuriser featuriser;
    readonly GraphExecutor executor;
    readonly Tape forwardTape, backwardTape;

    public GraphModel(WeightModel model, IBackend backend)
    {
        Model = model;
        Backend = backend;
        if (model.Kind == ModelKind.Denoiser)
            throw new GraphException("this is a diffusion denoiser, not a composition predictor: use it with `kiago baseline superdiff --denoiser`");
        if (!Featuriser.InputShapeFits(model.Kind, model.Graph.InputShape))
            throw new GraphException($"{ModelKinds.NameWithArticle(model.Kind)} model takes per-sample input {Featuriser.ExpectedShape(model.Kind)}, " +
                $"but the graph's input '{model.Graph.InputName}' is {GraphOps.Show(model.Graph.InputShape)}");
        // an MLP on the flattened image runs on the 118 fractions directly (same function, 7.6× smaller first layer)
        var run = FeaturiserFolding.Fold(model);
        executor = new GraphExecutor(run.Graph, backend);
        if (executor.OutputSize != 1)
        {
            executor.Dispose();
            throw new GraphException($"a composition model gives one value per sample, but the graph's output '{model.Graph.OutputName}' " +
                $"has per-sample shape {GraphOps.Show(executor.OutputShape)}");
        }
        featuriser = new Featuriser(run.Kind, backend, run.Graph.InputShape);
        forwardTape = new Tape(backend) { RecordGradients = false };
        backwardTape = new Tape(backend);
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

    /// <summary>Records featuriser + graph on a tape: composition [N, 118] → prediction [N] (one value per sample).</summary>
    /// <remarks>The graph's output is kept: it is read after the tape (copied to the caller), and the reshape would
    /// otherwise be its last reader, so from the second identical call the early release recycled its buffer.</remarks>
    public Tensor Run(Tape tape, Tensor composition) =>
        tape.Reshape(tape.Keep(executor.Run(tape, featuriser.Apply(tape, composition))), composition.Batch);

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        try
        {
            var output = Run(forwardTape, forwardTape.Leaf(x, [batch, Featuriser.CompositionColumns]));
            Backend.Copy(output.Buffer, y, batch);
        }
        finally { forwardTape.Reset(); }
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        ShapeException.RequireLength("GraphModel.ForwardBackward", "dxAccumulate", dxAccumulate, (long)batch * Featuriser.CompositionColumns);
        try
        {
            var leaf = backwardTape.Leaf(x, [batch, Featuriser.CompositionColumns], requiresGrad: true);
            var output = Run(backwardTape, leaf);
            Backend.Copy(output.Buffer, y, batch);
            backwardTape.Backward(output, gradScale);
            if (leaf.Grad is { } g) Backend.Axpy(1f, g, dxAccumulate, (long)batch * Featuriser.CompositionColumns);
        }
        finally { backwardTape.Reset(); }
    }

    public void Dispose()
    {
        forwardTape.Dispose();
        backwardTape.Dispose();
        executor.Dispose();
        featuriser.Dispose();
    }
}
