using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

/// <summary>
/// Turns an ONNX graph into Kiago's graph IR: BatchNormalization folded into the preceding Conv, Gemm/MatMul into
/// Linear, Identity/Dropout removed, and shape arithmetic (Shape/Gather/Unsqueeze/Concat/... before a Reshape, as
/// torch.onnx.export emits for x.view(x.size(0), -1)) evaluated statically. Dimension 0 of the single input is the
/// batch; every other dimension must be fixed.
/// </summary>
public static partial class OnnxImporter
{
    public static readonly IReadOnlyList<string> SupportedOps =
    [
        "Conv", "BatchNormalization", "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Neg", "Abs", "Softplus", "LeakyRelu", "Clip (constant bounds)", "Erf", "Pow (constant scalar exponent)", "Sin", "Cos", "MaxPool", "AveragePool", "GlobalAveragePool", "Add/Sub/Mul/Div (a constant operand: scalar, per channel or per last-axis feature; or two activations, broadcast)",
        "LayerNormalization (last axis)", "Softmax/LogSoftmax (any axis)", "ReduceSum/ReduceMean/ReduceMax (any per-sample axes)",
        "Gather/Slice/Concat/Transpose of activations (any per-sample axis, constant indices)", "Gather of a constant table by run-time indices (Embedding)", "Gemm", "MatMul (by a constant, or of two activations: batched)",
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Constant",
        "Shape/Gather/Concat/Cast (on constants and shapes)",
    ];

    public static ModelGraph Import(string path) => Import(OnnxReader.ReadModel(path));

    public static ModelGraph Import(OnnxModel model) => new Importer(model).Run();

    /// <summary>A statically known tensor: weights, constants and shape arithmetic. <see cref="Batch"/> marks the batch size.</summary>
    sealed record Const(long[] Shape, float[]? F, long[]? I)
    {
        public const long Batch = long.MinValue;
        public long Count => Shape.Aggregate(1L, (a, d) => a * d);
    }

    sealed partial class Importer(OnnxModel model)
    {
        readonly string file = model.File;
        readonly Dictionary<string, Const> constants = [];
        readonly Dictionary<string, string> alias = [];         // ONNX value → IR value
        readonly Dictionary<string, int[]> shapes = [];         // IR value → per-sample shape
        readonly Dictionary<string, int> producer = [];         // IR value → index in nodes
        readonly Dictionary<string, int> onnxConsumers = [];    // ONNX value → number of readers (nodes + graph outputs)
        readonly List<GraphNode> nodes = [];
        readonly Dictionary<string, WeightTensor> tensors = [];
        readonly HashSet<string> nodeNames = [];
        long exportedBatch = -1;

        public ModelGraph Run()
        {
            var graph = model.Graph;
            foreach (var t in graph.Initializers) constants[t.Name] = FromTensor(t);
            foreach (var n in graph.Nodes)
                foreach (var i in n.Inputs.Where(i => i.Length > 0))
                    onnxConsumers[i] = onnxConsumers.GetValueOrDefault(i) + 1;
            foreach (var o in graph.Outputs) onnxConsumers[o.Name] = onnxConsumers.GetValueOrDefault(o.Name) + 1;

            var runtime = graph.Inputs.Where(i => !constants.ContainsKey(i.Name)).ToList();
            string inputName;
            int[] perSample;
            if (runtime.Count == 2 && runtime.Count(r => r.ElementType is OnnxDataType.Int64 or OnnxDataType.Int32) == 1
                && runtime.Count(r => r.ElementType == OnnxDataType.Float) == 1)
            {
                // an element-token model: integer element indices and float fractions, one graph input [2, T]
                (inputName, perSample) = TokenInputs(runtime.Single(r => r.ElementType != OnnxDataType.Float), runtime.Single(r => r.ElementType == OnnxDataType.Float));
            }
            else
            {
                if (runtime.Count != 1)
                    throw ModelImportException.Graph(file,
                        $"graph has {runtime.Count} runtime inputs ({string.Join(", ", runtime.Select(r => $"{r.Name} ({r.ElementType})"))}); Kiago models take one float input, " +
                        "or two for element tokens: integer indices and float fractions, both [batch, T]");
                var input = runtime[0];
                if (input.ElementType != OnnxDataType.Float)
                    throw ModelImportException.Graph(file, $"input '{input.Name}' has element type {input.ElementType}; Kiago runs float32 models");
                if (input.Shape is null || input.Shape.Length < 1)
                    throw ModelImportException.Graph(file, $"input '{input.Name}' has no shape; export with a fixed input shape and a batch dimension first");
                perSample = input.Shape.Skip(1).Select((d, k) => d.Value is > 0 and <= int.MaxValue
                    ? (int)d.Value.Value
                    : throw ModelImportException.Graph(file, $"input '{input.Name}' dimension {k + 1} is '{d}'; only dimension 0 (the batch) may be symbolic")).ToArray();
                exportedBatch = input.Shape[0].Value ?? -1;
                inputName = input.Name;
                shapes[input.Name] = perSample;
                alias[input.Name] = input.Name;
            }

            foreach (var node in graph.Nodes) Visit(node);

            if (graph.Outputs.Count != 1)
                throw ModelImportException.Graph(file, $"graph has {graph.Outputs.Count} outputs; Kiago models have exactly one");
            string outputName = graph.Outputs[0].Name;
            if (!alias.TryGetValue(outputName, out var output))
                throw ModelImportException.Graph(file, $"graph output '{outputName}' is constant or not computed from the input");
            if (output == inputName)
                throw ModelImportException.Graph(file, "graph output is the input itself; nothing to run");
            return Prune(new ModelGraph(inputName, perSample, output, nodes, tensors));
        }

        // Drops nodes the output does not depend on, and tensors no node uses.
        static ModelGraph Prune(ModelGraph g)
        {
            var needed = new HashSet<string> { g.OutputName };
            var kept = new List<GraphNode>();
            for (int k = g.Nodes.Count - 1; k >= 0; k--)
            {
                var n = g.Nodes[k];
                if (!needed.Contains(n.Output)) continue;
                kept.Add(n);
                foreach (var i in n.Inputs) needed.Add(i);
            }
            kept.Reverse();
            var used = kept.SelectMany(n => n.Weights).ToHashSet();
            var tensors = g.Tensors.Where(kv => used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value);
            return g with { Nodes = kept, Tensors = tensors };
        }

        void Visit(OnnxNode node)
        {
            if (node.Domain is not ("" or "ai.onnx")) throw ModelImportException.UnsupportedOp(file, node);
            if (fused.Contains(node)) return; // part of a pattern emitted as one node
            switch (node.OpType)
            {
                case "Constant": constants[node.Outputs[0]] = ConstantValue(node); return;
                case "Identity": PassThrough(node); return;
                case "Dropout": PassThrough(node); return; // inference: identity (the mask output must be unused)
                case "Shape": ShapeOf(node); return;
                case "Gather":
                    if (!IsConst(node, 0)) GatherFromActivation(node);
                    else if (IsConst(node, 1)) Gather(node);
                    else EmbeddingNode(node);
                    return;
                case "Slice": SliceNode(node); return;
                case "Softmax": case "LogSoftmax": SoftmaxNode(node); return;
                case "ReduceSum": case "ReduceMax": ReduceSumOrMaxNode(node); return;
                case "Concat": if (node.Inputs.All(i => constants.ContainsKey(i))) Concat(node); else ConcatActivations(node); return;
                case "Cast": Cast(node); return;
                case "Transpose": TransposeNode(node); return;
                case "Unsqueeze": case "Squeeze": SqueezeOrUnsqueeze(node); return;
                case "Reshape": ReshapeNode(node); return;
                case "Flatten": Flatten(node); return;
                case "Conv": ConvNode(node); return;
                case "BatchNormalization": BatchNorm(node); return;
                case "Relu": Emit(node, GraphOps.Relu, [Dynamic(node, 0)], [], []); return;
                case "Sigmoid": Emit(node, GraphOps.Sigmoid, [Dynamic(node, 0)], [], []); return;
                case "Tanh": case "Exp": case "Log": case "Sqrt": case "Neg": case "Abs": case "Softplus": case "LeakyRelu": case "Clip": case "Erf": case "Pow": case "Sin": case "Cos":
                    UnaryNode(node); return;
                case "MaxPool": case "AveragePool": Pool(node); return;
                case "GlobalAveragePool":
                {
                    var x = Dynamic(node, 0);
                    RequireRank(node, x, 3, "(C,H,W) per sample");
                    Emit(node, GraphOps.GlobalAveragePool, [x], [], []);
                    return;
                }
                case "Add": AddNode(node); return;
                case "Mul": case "Sub": case "Div": ArithmeticWithConstant(node); return;
                case "LayerNormalization": LayerNormalizationNode(node); return;
                case "ReduceMean": ReduceMeanNode(node); return;
                case "Gemm": GemmNode(node); return;
                case "MatMul": MatMulNode(node); return;
                default: throw ModelImportException.UnsupportedOp(file, node);
            }
        }

        // ---- helpers ---------------------------------------------------------------------------------------------

        bool IsConst(OnnxNode node, int k) => k < node.Inputs.Length && node.Inputs[k].Length > 0 && constants.ContainsKey(node.Inputs[k]);

        Const ConstInput(OnnxNode node, int k, string what)
        {
            if (k >= node.Inputs.Length || node.Inputs[k].Length == 0)
                throw ModelImportException.Node(file, node, $"input {k} ({what}) is missing");
            return constants.TryGetValue(node.Inputs[k], out var c)
                ? c
                : throw ModelImportException.Node(file, node, $"input {k} ({what}) '{node.Inputs[k]}' must be a constant (initializer or Constant), but is computed at run time");
        }

        Const? OptionalConst(OnnxNode node, int k, string what) =>
            k < node.Inputs.Length && node.Inputs[k].Length > 0 ? ConstInput(node, k, what) : null;

        string Dynamic(OnnxNode node, int k)
        {
            if (k >= node.Inputs.Length || node.Inputs[k].Length == 0)
                throw ModelImportException.Node(file, node, $"input {k} is missing");
            if (alias.TryGetValue(node.Inputs[k], out var v)) return v;
            if (constants.ContainsKey(node.Inputs[k]))
                throw ModelImportException.Node(file, node, $"input {k} '{node.Inputs[k]}' is a constant; Kiago runs this op on activations only");
            throw ModelImportException.Node(file, node, $"input {k} '{node.Inputs[k]}' is not defined by an earlier node (graph not topologically sorted?)");
        }

        void RequireRank(OnnxNode node, string value, int rank, string what)
        {
            if (shapes[value].Length != rank)
                throw ModelImportException.Node(file, node, $"input has per-sample shape {GraphOps.Show(shapes[value])}, expected {what}");
        }

        long[] Ints(OnnxNode node, string name, long[] fallback)
        {
            var a = node.Attribute(name);
            return a is null ? fallback : a.Ints.Length > 0 || a.Type == OnnxAttribute.IntsType ? a.Ints : [a.I];
        }

        long Int(OnnxNode node, string name, long fallback) => node.Attribute(name)?.I ?? fallback;

        float Float(OnnxNode node, string name, float fallback) => node.Attribute(name) is { } a ? a.F : fallback;

        static int[] ToInts(IEnumerable<long> values) => values.Select(v => checked((int)v)).ToArray();

        string UniqueName(OnnxNode node, string op)
        {
            string name = node.Name.Length > 0 ? node.Name : $"{op}_{nodes.Count}";
            while (!nodeNames.Add(name)) name = $"{name}_{nodes.Count}";
            return name;
        }

        string AddTensor(string name, int[] shape, float[] data)
        {
            tensors[name] = new WeightTensor(name, shape, data);
            return name;
        }

        string Emit(OnnxNode node, string op, string[] inputs, string[] weights, Dictionary<string, int[]> attrs, string? output = null)
        {
            string name = UniqueName(node, op);
            return EmitNamed(node, name, op, inputs, weights, attrs, output ?? node.Outputs[0]);
        }

        string EmitNamed(OnnxNode node, string name, string op, string[] inputs, string[] weights, Dictionary<string, int[]> attrs, string output)
        {
            var irNode = new GraphNode(name, op, inputs, output, weights, attrs);
            try
            {
                shapes[output] = GraphOps.InferShape(irNode, inputs.Select(i => shapes[i]).ToArray(), tensors);
            }
            catch (GraphException e)
            {
                throw ModelImportException.Node(file, node, e.Message);
            }
            producer[output] = nodes.Count;
            nodes.Add(irNode);
            alias[output] = output;
            return output;
        }

        void EmitReshape(OnnxNode node, string x, int[] target, string? output = null)
        {
            if (shapes[x].SequenceEqual(target) && output is null) { alias[node.Outputs[0]] = x; return; }
            Emit(node, GraphOps.Reshape, [x], [], new() { ["shape"] = target }, output ?? node.Outputs[0]);
        }

        static Const FromTensor(OnnxTensor t) => new(t.Dims, t.Floats, t.Int64s);
    }
}
