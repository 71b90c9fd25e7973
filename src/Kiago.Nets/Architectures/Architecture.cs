using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Architectures;

/// <summary>One contiguous piece of an architecture as its own graph (its input is the previous stage's output).</summary>
public sealed record ArchitectureStage(string Name, ModelGraph Graph, long MacsPerSample)
{
    public int[] InputShape => Graph.InputShape;
}

/// <summary>
/// A network in Kiago's graph IR — the same form ONNX import produces — with its stages (for per-stage benchmarks).
/// Run it with <see cref="GraphExecutor"/> (from the model input) or wrap it with <see cref="ToWeightModel"/> to use
/// it as a composition model.
/// </summary>
public sealed record Architecture(string Name, ModelKind Kind, ModelGraph Graph, IReadOnlyList<ArchitectureStage> Stages)
{
    public int[] InputShape => Graph.InputShape;

    /// <summary>Dense (unpruned) multiply-accumulates per sample, forward.</summary>
    public long MacsPerSample => Stages.Sum(s => s.MacsPerSample);

    /// <summary>The architecture as an in-memory model file of its kind (the featuriser's input elements, default output name).</summary>
    public WeightModel ToWeightModel(string card = "{\"name\": \"random weights\"}")
    {
        var (name, unit) = ModelKinds.DefaultOutput(Kind) ?? throw new InvalidOperationException($"{ModelKinds.NameWithArticle(Kind)} architecture needs its output named");
        return new WeightModel(Kind, [.. Featuriser.Layout(Kind).Accepted], name, unit, Graph, card, "random " + Name);
    }
}
