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
    /// <summary>
    /// The card's element_frequencies (118 values, index Z − 1: how often each element occurs in the training data; the
    /// optimiser's initialiser draws replacement elements from them), or null when the card has no valid table
    /// (a .kgw's card is checked on read; an in-memory one may not be).
    /// </summary>
    public double[]? ElementFrequencies()
    {
        try
        {
            if (System.Text.Json.Nodes.JsonNode.Parse(CardJson) is not System.Text.Json.Nodes.JsonObject card
                || card["element_frequencies"] is not System.Text.Json.Nodes.JsonArray array || array.Count != Kiago.Chemistry.Elements.Count)
                return null;
            var values = new double[array.Count];
            for (int i = 0; i < values.Length; i++)
                if (array[i] is not System.Text.Json.Nodes.JsonValue v || !v.TryGetValue(out values[i]) || !(values[i] >= 0) || !double.IsFinite(values[i]))
                    return null;
            return values.Sum() > 0 ? values : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The same model with every tensor stored as <paramref name="storage"/> (values rounded accordingly).</summary>
    /// <summary>Tensors of at most this many values keep fp32 in an fp16 file when fp16 cannot hold them (op parameters, not weights).</summary>
    public const int ScalarParameterLimit = 3;

    /// <summary>Every value is within fp16's finite range and, unless 0, at least its smallest normal (6.1e-5).</summary>
    static bool FitsHalf(float[] values) => values.All(v => v == 0 || MathF.Abs(v) is >= 6.1035156e-5f and <= 65504f);

    public WeightModel WithStorage(TensorStorageType storage)
    {
        // fp16 is for the weights; an op's few scalar parameters (Unary α and bounds, LayerNorm ε) stay fp32: a missing
        // Clip bound is ±3.4e38, beyond fp16's range, and ε = 1e-5 would lose most of its digits
        var tensors = Graph.Tensors.ToDictionary(kv => kv.Key, kv =>
        {
            var s = storage == TensorStorageType.Float16 && kv.Value.ElementCount <= ScalarParameterLimit && !FitsHalf(kv.Value.Data)
                ? TensorStorageType.Float32 : storage;
            return kv.Value with
            {
                StorageType = s,
                Data = s == TensorStorageType.Float16 ? WeightFile.RoundToHalf(kv.Value) : kv.Value.Data,
            };
        });
        return this with { Graph = Graph with { Tensors = tensors } };
    }
}
