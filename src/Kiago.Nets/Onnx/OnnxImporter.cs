using Kiago.Nets.Graph;

namespace Kiago.Nets.Onnx;

/// <summary>
/// Turns an ONNX graph into Kiago's graph IR: BatchNormalization folded into the preceding Conv, Gemm/MatMul into
/// Linear, Identity/Dropout removed, and shape arithmetic (Shape/Gather/Unsqueeze/Concat/... before a Reshape, as
/// torch.onnx.export emits for x.view(x.size(0), -1)) evaluated statically. Dimension 0 of the single input is the
/// batch; every other dimension must be fixed.
/// </summary>
public static class OnnxImporter
{
    public static readonly IReadOnlyList<string> SupportedOps =
    [
        "Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "Add", "Gemm", "MatMul",
        "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Constant",
        "Shape/Gather/Concat/Cast/Transpose (on constants and shapes only)",
    ];

    public static ModelGraph Import(string path) => Import(OnnxReader.ReadModel(path));

    public static ModelGraph Import(OnnxModel model) => new Importer(model).Run();

    /// <summary>A statically known tensor: weights, constants and shape arithmetic. <see cref="Batch"/> marks the batch size.</summary>
    sealed record Const(long[] Shape, float[]? F, long[]? I)
    {
        public const long Batch = long.MinValue;
        public long Count => Shape.Aggregate(1L, (a, d) => a * d);
    }

    sealed class Importer(OnnxModel model)
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
            if (runtime.Count != 1)
                throw ModelImportException.Graph(file,
                    $"graph has {runtime.Count} runtime inputs ({string.Join(", ", runtime.Select(r => r.Name))}); Kiago models take exactly one input tensor");
            var input = runtime[0];
            if (input.ElementType != OnnxDataType.Float)
                throw ModelImportException.Graph(file, $"input '{input.Name}' has element type {input.ElementType}; Kiago runs float32 models");
            if (input.Shape is null || input.Shape.Length < 1)
                throw ModelImportException.Graph(file, $"input '{input.Name}' has no shape; export with a fixed input shape and a batch dimension first");
            var perSample = input.Shape.Skip(1).Select((d, k) => d.Value is > 0 and <= int.MaxValue
                ? (int)d.Value.Value
                : throw ModelImportException.Graph(file, $"input '{input.Name}' dimension {k + 1} is '{d}'; only dimension 0 (the batch) may be symbolic")).ToArray();
            exportedBatch = input.Shape[0].Value ?? -1;
            shapes[input.Name] = perSample;
            alias[input.Name] = input.Name;

            foreach (var node in graph.Nodes) Visit(node);

            if (graph.Outputs.Count != 1)
                throw ModelImportException.Graph(file, $"graph has {graph.Outputs.Count} outputs; Kiago models have exactly one");
            string outputName = graph.Outputs[0].Name;
            if (!alias.TryGetValue(outputName, out var output))
                throw ModelImportException.Graph(file, $"graph output '{outputName}' is constant or not computed from the input");
            if (output == input.Name)
                throw ModelImportException.Graph(file, "graph output is the input itself; nothing to run");
            return Prune(new ModelGraph(input.Name, perSample, output, nodes, tensors));
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
            switch (node.OpType)
            {
                case "Constant": constants[node.Outputs[0]] = ConstantValue(node); return;
                case "Identity": PassThrough(node); return;
                case "Dropout": PassThrough(node); return; // inference: identity (the mask output must be unused)
                case "Shape": ShapeOf(node); return;
                case "Gather": Gather(node); return;
                case "Concat": Concat(node); return;
                case "Cast": Cast(node); return;
                case "Transpose": Transpose(node); return;
                case "Unsqueeze": case "Squeeze": SqueezeOrUnsqueeze(node); return;
                case "Reshape": ReshapeNode(node); return;
                case "Flatten": Flatten(node); return;
                case "Conv": ConvNode(node); return;
                case "BatchNormalization": BatchNorm(node); return;
                case "Relu": Emit(node, GraphOps.Relu, [Dynamic(node, 0)], [], []); return;
                case "MaxPool": case "AveragePool": Pool(node); return;
                case "GlobalAveragePool":
                {
                    var x = Dynamic(node, 0);
                    RequireRank(node, x, 3, "(C,H,W) per sample");
                    Emit(node, GraphOps.GlobalAveragePool, [x], [], []);
                    return;
                }
                case "Add": AddNode(node); return;
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

        // ---- constants and shape arithmetic ------------------------------------------------------------------------

        Const ConstantValue(OnnxNode node)
        {
            var a = node.Attributes.Count == 1 ? node.Attributes[0] : null;
            if (a is null) throw ModelImportException.Node(file, node, "expected exactly one value attribute");
            return a.Name switch
            {
                "value" when a.T is { } t && (t.Floats is not null || t.Int64s is not null) => FromTensor(t),
                "value_float" => new Const([], [a.F], null),
                "value_floats" => new Const([a.Floats.Length], a.Floats, null),
                "value_int" => new Const([], null, [a.I]),
                "value_ints" => new Const([a.Ints.Length], null, a.Ints),
                _ => throw ModelImportException.UnsupportedAttribute(file, node, a.Name, "…", "value (float/int tensor), value_float(s), value_int(s)"),
            };
        }

        void PassThrough(OnnxNode node)
        {
            for (int k = 1; k < node.Outputs.Length; k++)
                if (node.Outputs[k].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[k]))
                    throw ModelImportException.Node(file, node, $"output {k} ('{node.Outputs[k]}', the dropout mask) is used; only inference is supported");
            if (IsConst(node, 0)) constants[node.Outputs[0]] = constants[node.Inputs[0]];
            else alias[node.Outputs[0]] = Dynamic(node, 0);
        }

        void ShapeOf(OnnxNode node)
        {
            long[] dims = IsConst(node, 0)
                ? constants[node.Inputs[0]].Shape
                : [Const.Batch, .. shapes[Dynamic(node, 0)].Select(d => (long)d)];
            long start = Int(node, "start", 0), end = Int(node, "end", dims.Length);
            if (start < 0) start += dims.Length;
            if (end < 0) end += dims.Length;
            start = Math.Clamp(start, 0, dims.Length);
            end = Math.Clamp(end, start, dims.Length);
            var slice = dims[(int)start..(int)end];
            constants[node.Outputs[0]] = new Const([slice.Length], null, slice);
        }

        void Gather(OnnxNode node)
        {
            if (!IsConst(node, 0))
                throw ModelImportException.Node(file, node, "gathering from activations is not supported (only from constants and shapes)");
            var data = constants[node.Inputs[0]];
            var index = ConstInput(node, 1, "indices");
            if (Int(node, "axis", 0) != 0 || data.Shape.Length != 1 || index.I is null)
                throw ModelImportException.Node(file, node, "only Gather on axis 0 of a 1-D constant with integer indices is supported");
            long n = data.Shape[0];
            long Pick(long i) => (i < 0 ? i + n : i) is var j && j >= 0 && j < n ? j : throw ModelImportException.Node(file, node, $"index {i} out of range for {n} values");
            constants[node.Outputs[0]] = new Const(index.Shape,
                data.F is null ? null : index.I.Select(i => data.F[Pick(i)]).ToArray(),
                data.I is null ? null : index.I.Select(i => data.I[Pick(i)]).ToArray());
        }

        void Concat(OnnxNode node)
        {
            if (!node.Inputs.All(i => constants.ContainsKey(i)))
                throw ModelImportException.Node(file, node, "concatenating activations is not supported (only constants and shapes)");
            var parts = node.Inputs.Select(i => constants[i]).ToList();
            if (parts.Any(p => p.Shape.Length != 1 || p.I is null))
                throw ModelImportException.Node(file, node, "only concatenation of 1-D integer constants (shapes) is supported");
            var values = parts.SelectMany(p => p.I!).ToArray();
            constants[node.Outputs[0]] = new Const([values.Length], null, values);
        }

        void Cast(OnnxNode node)
        {
            if (!IsConst(node, 0)) throw ModelImportException.Node(file, node, "Cast of activations is not supported (only of constants)");
            var c = constants[node.Inputs[0]];
            var to = (OnnxDataType)Int(node, "to", 0);
            constants[node.Outputs[0]] = to switch
            {
                OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 =>
                    new Const(c.Shape, c.F ?? c.I!.Select(v => v == Const.Batch ? throw ModelImportException.Node(file, node, "cannot cast the batch size to float") : (float)v).ToArray(), null),
                OnnxDataType.Int64 or OnnxDataType.Int32 => new Const(c.Shape, null, c.I ?? c.F!.Select(v => (long)v).ToArray()),
                _ => throw ModelImportException.UnsupportedAttribute(file, node, "to", to.ToString(), "float, double, float16, int32, int64"),
            };
        }

        void Transpose(OnnxNode node)
        {
            if (!IsConst(node, 0)) throw ModelImportException.Node(file, node, "Transpose of activations is not supported (only of constant 2-D weights)");
            var c = constants[node.Inputs[0]];
            var perm = Ints(node, "perm", [1, 0]);
            if (c.Shape.Length != 2 || perm is not [1, 0] || c.F is null)
                throw ModelImportException.Node(file, node, "only the transpose of a 2-D float constant is supported");
            int r = (int)c.Shape[0], k = (int)c.Shape[1];
            var t = new float[c.F.Length];
            for (int i = 0; i < r; i++)
                for (int j = 0; j < k; j++)
                    t[j * r + i] = c.F[i * k + j];
            constants[node.Outputs[0]] = new Const([k, r], t, null);
        }

        void SqueezeOrUnsqueeze(OnnxNode node)
        {
            bool squeeze = node.OpType == "Squeeze";
            long[]? axes = node.Inputs.Length > 1 && node.Inputs[1].Length > 0
                ? ConstInput(node, 1, "axes").I
                : node.Attribute("axes") is { } a ? a.Ints : null;
            bool isConst = IsConst(node, 0);
            long[] full = isConst ? constants[node.Inputs[0]].Shape : [-1, .. shapes[Dynamic(node, 0)].Select(d => (long)d)];
            var dims = full.ToList();
            if (squeeze)
            {
                int rank = dims.Count;
                var drop = (axes ?? Enumerable.Range(0, rank).Where(i => full[i] == 1).Select(i => (long)i).ToArray())
                    .Select(x => x < 0 ? x + rank : x).OrderByDescending(x => x).ToList();
                foreach (var ax in drop)
                {
                    if (ax < 0 || ax >= rank || full[ax] != 1)
                        throw ModelImportException.Node(file, node, $"cannot squeeze axis {ax} of shape [{string.Join(",", full.Select(d => d == -1 ? "batch" : d.ToString()))}]");
                    dims.RemoveAt((int)ax);
                }
            }
            else
            {
                if (axes is null) throw ModelImportException.Node(file, node, "axes missing");
                int rank = dims.Count + axes.Length;
                foreach (var ax in axes.Select(x => x < 0 ? x + rank : x).OrderBy(x => x))
                {
                    if (ax < 0 || ax > dims.Count) throw ModelImportException.Node(file, node, $"axis {ax} out of range");
                    dims.Insert((int)ax, 1);
                }
            }
            if (isConst)
            {
                var c = constants[node.Inputs[0]];
                constants[node.Outputs[0]] = c with { Shape = [.. dims] };
                return;
            }
            if (dims.Count == 0 || dims[0] != -1 || dims.Skip(1).Any(d => d == -1))
                throw ModelImportException.Node(file, node, "squeezing or unsqueezing the batch dimension (axis 0) is not supported");
            EmitReshape(node, Dynamic(node, 0), ToInts(dims.Skip(1)));
        }

        void ReshapeNode(OnnxNode node)
        {
            var target = ConstInput(node, 1, "shape");
            if (target.I is null || target.Shape.Length != 1) throw ModelImportException.Node(file, node, "shape must be a 1-D integer constant");
            bool allowZero = Int(node, "allowzero", 0) != 0;
            if (IsConst(node, 0))
                throw ModelImportException.Node(file, node, "reshaping constants is not supported");
            string x = Dynamic(node, 0);
            int[] inShape = shapes[x];
            int size = GraphOps.Size(inShape);
            var t = target.I.ToList();
            if (t.Skip(1).Any(v => v == Const.Batch))
                throw ModelImportException.Node(file, node, "the batch size may only appear as the first entry of the target shape");
            List<long> rest;
            // The first entry is the batch when it is the batch size itself (Shape→Gather), 0 (copy), or the batch size
            // the model was exported with (fixed-shape exports).
            if (t.Count > 0 && (t[0] == Const.Batch || (t[0] == 0 && !allowZero) || (exportedBatch > 0 && t[0] == exportedBatch)))
                rest = t.Skip(1).ToList();
            else if (t.Count > 0 && t[0] == -1 && t.Skip(1).All(v => v > 0) && t.Skip(1).Aggregate(1L, (a, b) => a * b) == size)
                rest = t.Skip(1).ToList();
            else if (t is [-1] && size == 1)
                rest = [];
            else
                throw ModelImportException.Node(file, node,
                    $"target shape [{string.Join(",", t.Select(v => v == Const.Batch ? "batch" : v.ToString()))}] would mix the batch dimension into the per-sample shape {GraphOps.Show(inShape)}");
            // Resolve 0 (copy) and -1 (infer) within the sample.
            var dims = new int[rest.Count];
            int infer = -1;
            long known = 1;
            for (int k = 0; k < rest.Count; k++)
            {
                long v = rest[k];
                if (v == 0 && !allowZero)
                {
                    if (k + 1 >= inShape.Length + 1) throw ModelImportException.Node(file, node, $"0 at position {k + 1} has no input dimension to copy");
                    v = inShape[k];
                }
                if (v == -1)
                {
                    if (infer >= 0) throw ModelImportException.Node(file, node, "more than one -1 in the target shape");
                    infer = k;
                    continue;
                }
                if (v <= 0) throw ModelImportException.Node(file, node, $"invalid target dimension {v}");
                dims[k] = checked((int)v);
                known *= v;
            }
            if (infer >= 0)
            {
                if (known == 0 || size % known != 0) throw ModelImportException.Node(file, node, $"cannot infer -1: {size} values per sample");
                dims[infer] = (int)(size / known);
            }
            if (GraphOps.Size(dims) != size)
                throw ModelImportException.Node(file, node, $"cannot reshape per-sample {GraphOps.Show(inShape)} to {GraphOps.Show(dims)}");
            EmitReshape(node, x, dims);
        }

        void Flatten(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            int[] s = shapes[x];
            long axis = Int(node, "axis", 1);
            if (axis < 0) axis += s.Length + 1;
            if (axis < 1 || axis > s.Length + 1)
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(), "axis >= 1: flattening into the batch dimension is not supported");
            int outer = s.Take((int)axis - 1).Aggregate(1, (a, b) => a * b);
            int inner = s.Skip((int)axis - 1).Aggregate(1, (a, b) => a * b);
            // ONNX Flatten always gives a 2-D result: (batch · outer, inner); outer must be 1 to keep the batch apart.
            if (outer != 1)
                throw ModelImportException.UnsupportedAttribute(file, node, "axis", axis.ToString(), "axis 1 (or an axis after which all leading per-sample dimensions are 1)");
            EmitReshape(node, x, [inner]);
        }

        // ---- compute ops -----------------------------------------------------------------------------------------------

        Dictionary<string, int[]> SpatialAttributes(OnnxNode node, int[] kernel, bool pool)
        {
            string autoPad = node.Attribute("auto_pad")?.S ?? "NOTSET";
            if (autoPad is not ("NOTSET" or "VALID" or ""))
                throw ModelImportException.UnsupportedAttribute(file, node, "auto_pad", autoPad, "NOTSET or VALID; export with explicit pads");
            var strides = ToInts(Ints(node, "strides", [1, 1]));
            var dilations = ToInts(Ints(node, "dilations", [1, 1]));
            var pads = ToInts(Ints(node, "pads", [0, 0, 0, 0]));
            if (autoPad == "VALID") pads = [0, 0, 0, 0];
            if (strides.Length != 2 || dilations.Length != 2 || pads.Length != 4)
                throw ModelImportException.Node(file, node, "expected 2-D strides, dilations and pads");
            var attrs = new Dictionary<string, int[]>
            {
                ["kernel"] = kernel, ["strides"] = strides, ["pads"] = [pads[0], pads[1], pads[2], pads[3]], ["dilations"] = dilations,
            };
            if (pool) attrs["ceil"] = [(int)Int(node, "ceil_mode", 0)];
            return attrs;
        }

        void ConvNode(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            var w = ConstInput(node, 1, "weight");
            var b = OptionalConst(node, 2, "bias");
            if (w.F is null || w.Shape.Length != 4)
                throw ModelImportException.Node(file, node, $"weight must be a 4-D float tensor (only 2-D convolutions are supported), has shape [{string.Join(",", w.Shape)}]");
            RequireRank(node, x, 3, "(C,H,W) per sample (2-D convolution)");
            var kernel = ToInts(Ints(node, "kernel_shape", [w.Shape[2], w.Shape[3]]));
            var attrs = SpatialAttributes(node, kernel, pool: false);
            attrs["group"] = [(int)Int(node, "group", 1)];
            string name = UniqueName(node, "Conv");
            var weights = new List<string> { AddTensor(name + ".weight", ToInts(w.Shape), w.F) };
            if (b is not null)
            {
                if (b.F is null) throw ModelImportException.Node(file, node, "bias must be float");
                weights.Add(AddTensor(name + ".bias", [b.F.Length], b.F));
            }
            EmitNamed(node, name, GraphOps.Conv, [x], [.. weights], attrs, node.Outputs[0]);
        }

        void BatchNorm(OnnxNode node)
        {
            if (Int(node, "training_mode", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "training_mode", "1", "inference only: export the model in eval mode");
            for (int k = 1; k < node.Outputs.Length; k++)
                if (node.Outputs[k].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[k]))
                    throw ModelImportException.Node(file, node, $"output {k} (running statistics) is used; only inference is supported");
            string x = Dynamic(node, 0);
            float[] Vec(int k, string what) => ConstInput(node, k, what).F ?? throw ModelImportException.Node(file, node, $"{what} must be float");
            float[] gamma = Vec(1, "scale"), beta = Vec(2, "bias"), mean = Vec(3, "mean"), variance = Vec(4, "var");
            float epsilon = Float(node, "epsilon", 1e-5f);
            int channels = shapes[x].Length > 0 ? shapes[x][0] : 0;
            if (new[] { gamma, beta, mean, variance }.Any(v => v.Length != channels))
                throw ModelImportException.Node(file, node, $"parameters do not match the {channels} channels of per-sample shape {GraphOps.Show(shapes[x])}");
            // y = scale·x + shift per channel, computed in double
            var scale = new double[channels];
            var shift = new double[channels];
            for (int c = 0; c < channels; c++)
            {
                scale[c] = gamma[c] / Math.Sqrt((double)variance[c] + epsilon);
                shift[c] = beta[c] - mean[c] * scale[c];
            }
            // Fold into the producing Conv when nothing else reads the Conv's output.
            if (producer.TryGetValue(x, out int p) && nodes[p].Op == GraphOps.Conv && onnxConsumers.GetValueOrDefault(x) == 1
                && !alias.Where(kv => kv.Value == x).Any(kv => kv.Key != x))
            {
                var conv = nodes[p];
                var w = tensors[conv.Weights[0]];
                int perOut = w.ElementCount / w.Shape[0];
                var folded = new float[w.Data.Length];
                for (int o = 0; o < w.Shape[0]; o++)
                    for (int i = 0; i < perOut; i++)
                        folded[o * perOut + i] = (float)(w.Data[o * perOut + i] * scale[o]);
                var oldBias = conv.Weights.Length > 1 ? tensors[conv.Weights[1]].Data : new float[channels];
                var bias = new float[channels];
                for (int o = 0; o < channels; o++) bias[o] = (float)(oldBias[o] * scale[o] + shift[o]);
                AddTensor(conv.Weights[0], w.Shape, folded);
                string biasName = AddTensor(conv.Name + ".bias", [channels], bias);
                var output = node.Outputs[0];
                nodes[p] = conv with { Weights = [conv.Weights[0], biasName], Output = output };
                shapes[output] = shapes[x];
                shapes.Remove(x);
                alias.Remove(x);
                producer.Remove(x);
                producer[output] = p;
                alias[output] = output;
                return;
            }
            // Standalone BatchNorm: a depthwise 1×1 convolution.
            RequireRank(node, x, 3, "(C,H,W) per sample when the BatchNormalization does not follow a Conv");
            string name = UniqueName(node, "BatchNorm");
            var dw = AddTensor(name + ".weight", [channels, 1, 1, 1], scale.Select(v => (float)v).ToArray());
            var db = AddTensor(name + ".bias", [channels], shift.Select(v => (float)v).ToArray());
            EmitNamed(node, name, GraphOps.Conv, [x], [dw, db], new()
            {
                ["kernel"] = [1, 1], ["strides"] = [1, 1], ["pads"] = [0, 0, 0, 0], ["dilations"] = [1, 1], ["group"] = [channels],
            }, node.Outputs[0]);
        }

        void Pool(OnnxNode node)
        {
            string x = Dynamic(node, 0);
            if (node.Outputs.Length > 1 && node.Outputs[1].Length > 0 && onnxConsumers.ContainsKey(node.Outputs[1]))
                throw ModelImportException.Node(file, node, "the indices output is not supported");
            if (Int(node, "storage_order", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "storage_order", "1", "0 (row major)");
            var kernel = Ints(node, "kernel_shape", []);
            int[] s = shapes[x];
            bool oneD = kernel.Length == 1 && s.Length == 2;
            if (!(kernel.Length == 2 && s.Length == 3) && !oneD)
                throw ModelImportException.Node(file, node, $"kernel_shape [{string.Join(",", kernel)}] on per-sample shape {GraphOps.Show(s)}: only 1-D and 2-D pooling is supported");
            Dictionary<string, int[]> attrs;
            if (oneD)
            {
                // 1-D pooling runs as 2-D pooling over a height-1 map.
                long stride = Ints(node, "strides", [1])[0], dilation = Ints(node, "dilations", [1])[0];
                var p = Ints(node, "pads", [0, 0]);
                string autoPad = node.Attribute("auto_pad")?.S ?? "NOTSET";
                if (autoPad is not ("NOTSET" or "VALID" or ""))
                    throw ModelImportException.UnsupportedAttribute(file, node, "auto_pad", autoPad, "NOTSET or VALID");
                attrs = new()
                {
                    ["kernel"] = [1, (int)kernel[0]], ["strides"] = [1, (int)stride], ["pads"] = [0, (int)p[0], 0, (int)p[1]],
                    ["dilations"] = [1, (int)dilation], ["ceil"] = [(int)Int(node, "ceil_mode", 0)],
                };
                string name = UniqueName(node, node.OpType);
                string lifted = name + ".as2d";
                EmitNamed(node, name + "_to2d", GraphOps.Reshape, [x], [], new() { ["shape"] = [s[0], 1, s[1]] }, lifted);
                if (node.OpType == "AveragePool") attrs["count_include_pad"] = [(int)Int(node, "count_include_pad", 0)];
                string pooled = EmitNamed(node, name, node.OpType == "MaxPool" ? GraphOps.MaxPool : GraphOps.AveragePool, [lifted], [], attrs, name + ".out2d");
                EmitNamed(node, name + "_to1d", GraphOps.Reshape, [pooled], [], new() { ["shape"] = [s[0], shapes[pooled][2]] }, node.Outputs[0]);
                return;
            }
            attrs = SpatialAttributes(node, ToInts(kernel), pool: true);
            if (node.OpType == "AveragePool") attrs["count_include_pad"] = [(int)Int(node, "count_include_pad", 0)];
            Emit(node, node.OpType == "MaxPool" ? GraphOps.MaxPool : GraphOps.AveragePool, [x], [], attrs);
        }

        void AddNode(OnnxNode node)
        {
            bool c0 = IsConst(node, 0), c1 = IsConst(node, 1);
            if (c0 && c1) throw ModelImportException.Node(file, node, "adding two constants is not supported");
            if (!c0 && !c1)
            {
                string a = Dynamic(node, 0), b = Dynamic(node, 1);
                if (!shapes[a].SequenceEqual(shapes[b]))
                    throw ModelImportException.Node(file, node, $"inputs have per-sample shapes {GraphOps.Show(shapes[a])} and {GraphOps.Show(shapes[b])}; broadcasting Add is not supported");
                Emit(node, GraphOps.Add, [a, b], [], []);
                return;
            }
            // activation + constant: a bias after a bias-free MatMul/Gemm.
            string x = Dynamic(node, c0 ? 1 : 0);
            var bias = constants[node.Inputs[c0 ? 0 : 1]];
            if (producer.TryGetValue(x, out int p) && nodes[p].Op == GraphOps.Linear && nodes[p].Weights.Length == 1
                && onnxConsumers.GetValueOrDefault(x) == 1 && bias.F is not null)
            {
                var lin = nodes[p];
                int outFeatures = tensors[lin.Weights[0]].Shape[0];
                if (bias.Count == outFeatures || bias.Count == 1)
                {
                    var data = bias.Count == 1 ? Enumerable.Repeat(bias.F[0], outFeatures).ToArray() : bias.F;
                    string biasName = AddTensor(lin.Name + ".bias", [outFeatures], data);
                    var output = node.Outputs[0];
                    nodes[p] = lin with { Weights = [lin.Weights[0], biasName], Output = output };
                    shapes[output] = shapes[x];
                    shapes.Remove(x);
                    alias.Remove(x);
                    producer.Remove(x);
                    producer[output] = p;
                    alias[output] = output;
                    return;
                }
            }
            throw ModelImportException.Node(file, node, "adding a constant to an activation is only supported as the bias right after a MatMul/Gemm without bias");
        }

        void GemmNode(OnnxNode node)
        {
            if (Int(node, "transA", 0) != 0)
                throw ModelImportException.UnsupportedAttribute(file, node, "transA", "1", "transA=0");
            if (!IsConst(node, 1))
                throw ModelImportException.Node(file, node, "input B must be a constant weight matrix; products of two activations are not supported");
            string x = Dynamic(node, 0);
            RequireRank(node, x, 1, "a vector per sample, i.e. a 2-D (batch, features) input");
            var b = ConstInput(node, 1, "B");
            var c = OptionalConst(node, 2, "C");
            float alpha = Float(node, "alpha", 1f), beta = Float(node, "beta", 1f);
            bool transB = Int(node, "transB", 0) != 0;
            if (b.F is null || b.Shape.Length != 2) throw ModelImportException.Node(file, node, "B must be a 2-D float matrix");
            int rows = (int)b.Shape[0], cols = (int)b.Shape[1];
            int outFeatures = transB ? rows : cols, inFeatures = transB ? cols : rows;
            var w = new float[rows * cols];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    w[o * inFeatures + i] = alpha * (transB ? b.F[o * cols + i] : b.F[i * cols + o]);
            string name = UniqueName(node, "Gemm");
            var weights = new List<string> { AddTensor(name + ".weight", [outFeatures, inFeatures], w) };
            if (c is not null && beta != 0)
            {
                if (c.F is null || (c.Count != outFeatures && c.Count != 1) || c.Shape.Length > 2 || (c.Shape.Length == 2 && c.Shape[0] != 1))
                    throw ModelImportException.Node(file, node, $"C of shape [{string.Join(",", c.Shape)}] is not a per-output bias ({outFeatures} values)");
                var bias = c.Count == 1 ? Enumerable.Repeat(beta * c.F[0], outFeatures).ToArray() : c.F.Select(v => beta * v).ToArray();
                weights.Add(AddTensor(name + ".bias", [outFeatures], bias));
            }
            EmitNamed(node, name, GraphOps.Linear, [x], [.. weights], [], node.Outputs[0]);
        }

        void MatMulNode(OnnxNode node)
        {
            if (!IsConst(node, 1))
                throw ModelImportException.Node(file, node, "input B must be a constant weight matrix; products of two activations are not supported");
            string x = Dynamic(node, 0);
            RequireRank(node, x, 1, "a vector per sample, i.e. a 2-D (batch, features) input");
            var b = ConstInput(node, 1, "B");
            if (b.F is null || b.Shape.Length != 2) throw ModelImportException.Node(file, node, "B must be a 2-D float matrix");
            int inFeatures = (int)b.Shape[0], outFeatures = (int)b.Shape[1];
            var w = new float[b.F.Length];
            for (int o = 0; o < outFeatures; o++)
                for (int i = 0; i < inFeatures; i++)
                    w[o * inFeatures + i] = b.F[i * outFeatures + o];
            string name = UniqueName(node, "MatMul");
            EmitNamed(node, name, GraphOps.Linear, [x], [AddTensor(name + ".weight", [outFeatures, inFeatures], w)], [], node.Outputs[0]);
        }
    }
}
