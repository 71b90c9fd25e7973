namespace Kiago.Nets.Graph;

/// <summary>A frozen weight tensor (always float32 in memory; <see cref="StorageType"/> is how a .kgw file keeps it).</summary>
public sealed record WeightTensor(string Name, int[] Shape, float[] Data, TensorStorageType StorageType = TensorStorageType.Float32)
{
    public int ElementCount => Shape.Aggregate(1, (a, d) => a * d);
}

public enum TensorStorageType
{
    Float32,
    Float16,
}

/// <summary>
/// One op of Kiago's graph IR (the form after ONNX import: BatchNorm folded, shape arithmetic evaluated).
/// <see cref="Inputs"/> are activations, <see cref="Weights"/> name frozen tensors, <see cref="Attributes"/> are
/// integer lists (see <see cref="GraphOps"/> for each op's attributes).
/// </summary>
public sealed record GraphNode(
    string Name, string Op, string[] Inputs, string Output, string[] Weights,
    IReadOnlyDictionary<string, int[]> Attributes)
{
    public int[] Attr(string name) => Attributes.TryGetValue(name, out var v)
        ? v
        : throw new GraphException($"node '{Name}' ({Op}): attribute '{name}' missing");
}

/// <summary>
/// An imported model: one input (per-sample shape, the batch dimension excluded), a list of nodes in execution order,
/// one output, and the frozen tensors the nodes use.
/// </summary>
public sealed record ModelGraph(
    string InputName, int[] InputShape, string OutputName,
    IReadOnlyList<GraphNode> Nodes, IReadOnlyDictionary<string, WeightTensor> Tensors)
{
    public int InputSize => InputShape.Aggregate(1, (a, d) => a * d);

    /// <summary>Per-sample shape of every value (input and node outputs), checked op by op.</summary>
    public IReadOnlyDictionary<string, int[]> InferShapes()
    {
        var shapes = new Dictionary<string, int[]> { [InputName] = InputShape };
        foreach (var node in Nodes)
        {
            var inputs = node.Inputs.Select(i => shapes.TryGetValue(i, out var s)
                ? s
                : throw new GraphException($"node '{node.Name}' ({node.Op}) reads '{i}', which no earlier node produces")).ToArray();
            if (shapes.ContainsKey(node.Output))
                throw new GraphException($"node '{node.Name}' ({node.Op}) writes '{node.Output}', which is already defined");
            shapes[node.Output] = GraphOps.InferShape(node, inputs, Tensors);
        }
        if (!shapes.ContainsKey(OutputName))
            throw new GraphException($"graph output '{OutputName}' is not produced by any node");
        return shapes;
    }

    public long ParameterCount => Tensors.Values.Sum(t => (long)t.ElementCount);
}

/// <summary>The graph IR is inconsistent (a bad .kgw graph); the message names the node. Caused by the model file, so an input error.</summary>
public sealed class GraphException(string message) : InputException(message);
