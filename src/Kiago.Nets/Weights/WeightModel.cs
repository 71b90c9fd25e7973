using Kiago.Nets.Graph;

namespace Kiago.Nets.Weights;

/// <summary>
/// The content of a .kgw file: what the model is (kind, accepted elements, output name and unit), its graph and
/// tensors, and the model card (free-form JSON object; see docs/weight-format.md for the keys Kiago reads).
/// </summary>
public sealed record WeightModel(
    ModelKind Kind,
    int[] InputElements,
    string OutputName,
    string OutputUnit,
    ModelGraph Graph,
    string CardJson,
    string CreatedBy)
{
    /// <summary>The same model with every tensor stored as <paramref name="storage"/> (values rounded accordingly).</summary>
    public WeightModel WithStorage(TensorStorageType storage)
    {
        var tensors = Graph.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value with
        {
            StorageType = storage,
            Data = storage == TensorStorageType.Float16 ? WeightFile.RoundToHalf(kv.Value) : kv.Value.Data,
        });
        return this with { Graph = Graph with { Tensors = tensors } };
    }
}
