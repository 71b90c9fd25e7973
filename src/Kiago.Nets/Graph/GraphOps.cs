using Kiago.Kernels;

namespace Kiago.Nets.Graph;

/// <summary>
/// The ops of Kiago's graph IR, their attributes and shape rules. Shapes are per sample (no batch dimension).
/// <list type="bullet">
/// <item>Conv: inputs [x (C,H,W)]; weights [W (Cout, C/group, KH, KW), optional bias (Cout)];
///   attrs kernel (2), strides (2), pads (top, left, bottom, right), dilations (2), group (1).</item>
/// <item>Linear: y = x·Wᵀ + b over the last axis; inputs [x (.., In)]; weights [W (Out, In), optional bias (Out)] → (.., Out).</item>
/// <item>MatMul: the product of two activations over their last two axes, the leading axes a batch of products:
///   inputs [a (.., M, K), b (.., K, N)] with equal leading axes → (.., M, N) (attention's QKᵀ and AV).</item>
/// <item>Embedding: rows of a frozen table picked by the input's values (indices as floats, no gradient to them);
///   inputs [indices (any shape S)]; weights [table (V, D)] → (S.., D).</item>
/// <item>Relu, Sigmoid (element-wise, any shape); Unary: attr kind (1, a <see cref="UnaryKind"/>), weight params (3: α, lo, hi),
///   element-wise, any shape; Add, Mul (two inputs of equal shape), GlobalAveragePool ((C,H,W) → (C,1,1)).</item>
/// <item>LayerNorm: over the last per-sample axis; weights [γ (W), β (W), epsilon (1)].</item>
/// <item>RowOp: attr kind (1, a <see cref="RowOpKind"/>) over the last axis; softmax/log-softmax keep the shape, sum/mean/max make it 1.</item>
/// <item>Gather: attr indices (k): columns of a vector (X) → (k), any order, repeats allowed (backward scatter-adds).</item>
/// <item>Scatter: attrs indices (k), width (1): a vector (k) into columns of a zero vector (W), adding at repeats (backward gathers).</item>
/// <item>MaxPool / AveragePool: attrs kernel, strides, pads, dilations, ceil (1), and for AveragePool count_include_pad (1).</item>
/// <item>Reshape: attr shape (the per-sample target shape; may be empty for a scalar per sample). Data is not moved.</item>
/// </list>
/// </summary>
public static class GraphOps
{
    public const string Conv = "Conv", Linear = "Linear", Relu = "Relu", Sigmoid = "Sigmoid", Unary = "Unary", Add = "Add", Mul = "Mul", MaxPool = "MaxPool",
        AveragePool = "AveragePool", GlobalAveragePool = "GlobalAveragePool", Reshape = "Reshape", LayerNorm = "LayerNorm",
        RowOp = "RowOp", Gather = "Gather", Scatter = "Scatter", MatMul = "MatMul", Embedding = "Embedding";

    public static readonly IReadOnlyList<string> All =
        [Conv, Linear, Relu, Sigmoid, Unary, Add, Mul, MaxPool, AveragePool, GlobalAveragePool, Reshape, LayerNorm, RowOp, Gather, Scatter, MatMul, Embedding];

    public static int Size(int[] shape) => shape.Aggregate(1, (a, d) => a * d);

    public static string Show(int[] shape) => "[" + string.Join(",", shape) + "]";

    public static int[] InferShape(GraphNode node, int[][] inputs, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        GraphException Bad(string problem) => new($"node '{node.Name}' ({node.Op}): {problem}");

        void Arity(int activations, int minWeights, int maxWeights)
        {
            if (inputs.Length != activations) throw Bad($"takes {activations} input(s), has {inputs.Length}");
            if (node.Weights.Length < minWeights || node.Weights.Length > maxWeights)
                throw Bad($"takes {minWeights}-{maxWeights} weight tensor(s), has {node.Weights.Length}");
            foreach (var w in node.Weights)
                if (!tensors.ContainsKey(w)) throw Bad($"weight tensor '{w}' missing");
        }

        switch (node.Op)
        {
            case Conv:
            {
                Arity(1, 1, 2);
                var spec = ConvSpec(node, inputs[0], tensors);
                return [spec.OutChannels, spec.OutHeight, spec.OutWidth];
            }
            case Linear:
            {
                Arity(1, 1, 2);
                var spec = LinearSpecOf(node, inputs[0], tensors);
                return [.. inputs[0][..^1], spec.OutFeatures];
            }
            case MatMul:
            {
                Arity(2, 0, 0);
                int[] a = inputs[0], b = inputs[1];
                if (a.Length < 2 || a.Length != b.Length || !a.AsSpan(0, a.Length - 2).SequenceEqual(b.AsSpan(0, b.Length - 2)) || a[^1] != b[^2])
                    throw Bad($"inputs have shapes {Show(a)} and {Show(b)}; MatMul multiplies (.., M, K) by (.., K, N) with the same leading axes");
                return [.. a[..^1], b[^1]];
            }
            case Embedding:
            {
                Arity(1, 1, 1);
                var table = tensors[node.Weights[0]];
                if (table.Shape.Length != 2 || table.Shape[0] < 1 || table.Shape[1] < 1)
                    throw Bad($"table has shape {Show(table.Shape)}, expected (vocabulary, width)");
                return [.. inputs[0], table.Shape[1]];
            }
            case Relu:
            case Sigmoid:
                Arity(1, 0, 0);
                return inputs[0];
            case Unary:
                Arity(1, 1, 1);
                UnarySpecOf(node, tensors);
                return inputs[0];
            case Add:
            case Mul:
                Arity(2, 0, 0);
                if (!inputs[0].SequenceEqual(inputs[1]))
                    throw Bad($"inputs have shapes {Show(inputs[0])} and {Show(inputs[1])}; {node.Op} needs equal shapes (no broadcasting)");
                return inputs[0];
            case RowOp:
            {
                Arity(1, 0, 0);
                if (inputs[0].Length < 1) throw Bad("input has no axis to reduce");
                int kind = node.Attr("kind")[0];
                if (!Enum.IsDefined((RowOpKind)kind)) throw Bad($"kind {kind} is not a row op (0..{Enum.GetValues<RowOpKind>().Length - 1})");
                var shape = (int[])inputs[0].Clone();
                if ((RowOpKind)kind is not (RowOpKind.Softmax or RowOpKind.LogSoftmax)) shape[^1] = 1;
                return shape;
            }
            case Gather:
            {
                Arity(1, 0, 0);
                if (inputs[0].Length != 1) throw Bad($"input shape {Show(inputs[0])}: Gather picks columns of a vector");
                var indices = node.Attr("indices");
                if (indices.Length == 0 || indices.Any(i => i < 0 || i >= inputs[0][0]))
                    throw Bad($"indices [{string.Join(",", indices)}] must be 1+ columns within 0..{inputs[0][0] - 1}");
                return [indices.Length];
            }
            case Scatter:
            {
                Arity(1, 0, 0);
                var indices = node.Attr("indices");
                int width = node.Attr("width") is [var w] ? w : 0;
                if (inputs[0].Length != 1 || indices.Length != inputs[0][0])
                    throw Bad($"input shape {Show(inputs[0])}: Scatter places a vector's {indices.Length} values");
                if (width < 1 || indices.Any(i => i < 0 || i >= width))
                    throw Bad($"indices [{string.Join(",", indices)}] must lie within a width {width} ≥ 1");
                return [width];
            }
            case LayerNorm:
            {
                Arity(1, 3, 3);
                if (inputs[0].Length < 1) throw Bad("input has no axis to normalise");
                LayerNormOf(node, inputs[0], tensors);
                return inputs[0];
            }
            case MaxPool:
            case AveragePool:
            {
                Arity(1, 0, 0);
                var spec = PoolSpec(node, inputs[0]);
                return [spec.Channels, spec.OutHeight, spec.OutWidth];
            }
            case GlobalAveragePool:
                Arity(1, 0, 0);
                if (inputs[0].Length != 3) throw Bad($"input shape {Show(inputs[0])}, expected (C,H,W)");
                return [inputs[0][0], 1, 1];
            case Reshape:
            {
                Arity(1, 0, 0);
                var shape = node.Attr("shape");
                if (Size(shape) != Size(inputs[0]))
                    throw Bad($"cannot reshape {Show(inputs[0])} to {Show(shape)}");
                return shape;
            }
            default:
                throw Bad($"unknown op (known: {string.Join(", ", All)})");
        }
    }

    /// <summary>A LayerNorm node's γ, β and ε, checked against the width of the input's last axis.</summary>
    public static (float[] Gamma, float[] Beta, float Epsilon) LayerNormOf(GraphNode node, int[] input, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        GraphException Bad(string problem) => new($"node '{node.Name}' ({node.Op}): {problem}");
        int width = input[^1];
        var gamma = tensors[node.Weights[0]].Data;
        var beta = tensors[node.Weights[1]].Data;
        var epsilon = tensors[node.Weights[2]].Data;
        if (gamma.Length != width || beta.Length != width)
            throw Bad($"γ has {gamma.Length} and β {beta.Length} values; the last axis of input {Show(input)} has {width}");
        if (epsilon.Length != 1 || !(epsilon[0] >= 0)) throw Bad($"epsilon must be one value ≥ 0");
        return (gamma, beta, epsilon[0]);
    }

    public static Conv2dSpec ConvSpec(GraphNode node, int[] input, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        GraphException Bad(string problem) => new($"node '{node.Name}' ({node.Op}): {problem}");
        if (input.Length != 3) throw Bad($"input shape {Show(input)}, expected (C,H,W)");
        var w = tensors[node.Weights[0]];
        int[] k = node.Attr("kernel"), s = node.Attr("strides"), p = node.Attr("pads"), d = node.Attr("dilations");
        int group = node.Attr("group")[0];
        if (w.Shape.Length != 4 || w.Shape[2] != k[0] || w.Shape[3] != k[1])
            throw Bad($"weight shape {Show(w.Shape)} does not match kernel {Show(k)}");
        if (group < 1 || input[0] % group != 0 || w.Shape[0] % group != 0 || w.Shape[1] * group != input[0])
            throw Bad($"weight {Show(w.Shape)} with group {group} does not fit input channels {input[0]}");
        if (node.Weights.Length > 1 && tensors[node.Weights[1]].ElementCount != w.Shape[0])
            throw Bad($"bias has {tensors[node.Weights[1]].ElementCount} values, expected {w.Shape[0]}");
        var spec = new Conv2dSpec(input[0], input[1], input[2], w.Shape[0], k[0], k[1], s[0], s[1],
            p[0], p[1], p[2], p[3], d[0], d[1], group);
        if (spec.OutHeight <= 0 || spec.OutWidth <= 0) throw Bad($"output would be empty for input {Show(input)}");
        return spec;
    }

    public static LinearSpec LinearSpecOf(GraphNode node, int[] input, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        var w = tensors[node.Weights[0]];
        if (w.Shape.Length != 2 || input.Length < 1 || w.Shape[1] != input[^1])
            throw new GraphException($"node '{node.Name}' ({node.Op}): weight {Show(w.Shape)} does not fit input {Show(input)} (expected (Out, {(input.Length > 0 ? input[^1] : 0)}) over the last axis)");
        if (node.Weights.Length > 1 && tensors[node.Weights[1]].ElementCount != w.Shape[0])
            throw new GraphException($"node '{node.Name}' ({node.Op}): bias has {tensors[node.Weights[1]].ElementCount} values, expected {w.Shape[0]}");
        return new LinearSpec(w.Shape[1], w.Shape[0]);
    }

    /// <summary>The function of a Unary node: its kind attribute and its params tensor (α, lo, hi).</summary>
    public static UnarySpec UnarySpecOf(GraphNode node, IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        int kind = node.Attr("kind")[0];
        if (!Enum.IsDefined((UnaryKind)kind))
            throw new GraphException($"node '{node.Name}' ({node.Op}): kind {kind} is not one of {string.Join(", ", Enum.GetValues<UnaryKind>().Select(k => $"{(int)k} {k}"))}");
        var p = tensors[node.Weights[0]];
        if (p.ElementCount != 3) throw new GraphException($"node '{node.Name}' ({node.Op}): params has {p.ElementCount} values, expected 3 (alpha, min, max)");
        return new UnarySpec((UnaryKind)kind, p.Data[0], p.Data[1], p.Data[2]);
    }

    public static Pool2dSpec PoolSpec(GraphNode node, int[] input)
    {
        if (input.Length != 3) throw new GraphException($"node '{node.Name}' ({node.Op}): input shape {Show(input)}, expected (C,H,W)");
        int[] k = node.Attr("kernel"), s = node.Attr("strides"), p = node.Attr("pads"), d = node.Attr("dilations");
        bool ceil = node.Attr("ceil")[0] != 0;
        bool includePad = node.Op == AveragePool && node.Attr("count_include_pad")[0] != 0;
        var spec = new Pool2dSpec(input[0], input[1], input[2], k[0], k[1], s[0], s[1], p[0], p[1], p[2], p[3], d[0], d[1], includePad, ceil);
        if (spec.OutHeight <= 0 || spec.OutWidth <= 0)
            throw new GraphException($"node '{node.Name}' ({node.Op}): output would be empty for input {Show(input)}");
        return spec;
    }
}
