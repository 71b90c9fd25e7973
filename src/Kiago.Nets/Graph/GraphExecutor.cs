using Kiago.Autodiff;
using Kiago.Kernels;

namespace Kiago.Nets.Graph;

/// <summary>
/// Runs a <see cref="ModelGraph"/> on the autodiff tape of any <see cref="IBackend"/>. Conv and Linear layers are
/// prepared (packed, uploaded) once at construction; a ReLU that is the only reader of a Conv/Linear output is fused
/// into it. The tape provides the input backward and plans/reuses the activation buffers from one call to the next.
/// </summary>
public sealed class GraphExecutor : IDisposable
{
    readonly Step[] steps;
    readonly HashSet<string> outputViews;   // the output and every value it is a Reshape view of
    readonly List<IDisposable> layers = [];
    Tape? forwardTape, backwardTape;

    sealed class Step
    {
        public required GraphNode Node;
        public required int[] OutShape;
        /// <summary>The op as run and the values it reads: the node's, except where a fusion rewrote them.</summary>
        public required string Op;
        public required string[] Inputs;
        public bool Elided;   // folded into a fused step (a SiLU's Sigmoid, a GELU's leading ops): never computed
        public IConv2d? Conv;
        public ILinear? Linear;
        public Pool2dSpec? Pool;
        public UnarySpec Unary;
        public DeviceBuffer<float>? Gamma, Beta, Table;
        public DeviceBuffer<int>? Indices;
        public float Epsilon;
        public int Vocabulary;   // Embedding: rows of the table
        public bool FusedRelu;
        public bool Skip;   // a ReLU fused into its producer
    }

    public GraphExecutor(ModelGraph graph, IBackend backend)
    {
        Graph = graph;
        Backend = backend;
        var shapes = graph.InferShapes();
        InputShape = graph.InputShape;
        OutputShape = shapes[graph.OutputName];
        InputSize = GraphOps.Size(InputShape);
        OutputSize = GraphOps.Size(OutputShape);
        var readers = new Dictionary<string, int>();
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs) readers[i] = readers.GetValueOrDefault(i) + 1;
        var list = new List<Step>();
        try
        {
            foreach (var node in graph.Nodes)
            {
                var inShape = shapes[node.Inputs[0]];
                var step = new Step { Node = node, OutShape = shapes[node.Output], Op = node.Op, Inputs = node.Inputs };
                switch (node.Op)
                {
                    case GraphOps.Mul when SiluOperand(list, node, readers, graph.OutputName) is var (sigmoid, x):
                        // x * Sigmoid(x), the Sigmoid read by nothing else: one SiLU pass instead of two ops
                        sigmoid.Elided = true;
                        step.Op = GraphOps.Unary;
                        step.Inputs = [x];
                        step.Unary = new UnarySpec(UnaryKind.Silu);
                        break;
                    case GraphOps.Unary when GeluOperand(list, graph, node, readers) is var (chain, x, alpha):
                        // ½·(x·(erf(α·x) + 1)) as torch exports exact GELU: one pass instead of five
                        foreach (var part in chain) part.Elided = true;
                        step.Inputs = [x];
                        step.Unary = new UnarySpec(UnaryKind.Gelu, alpha);
                        break;
                    case GraphOps.Relu:
                        var producer = list.LastOrDefault(s => s.Node.Output == node.Inputs[0]);
                        if (producer is { Conv: not null } or { Linear: not null } && readers[node.Inputs[0]] == 1
                            && node.Inputs[0] != graph.OutputName)
                        {
                            producer.FusedRelu = true;
                            step.Skip = true;
                        }
                        break;
                    case GraphOps.Conv:
                    {
                        var bias = node.Weights.Length > 1 ? graph.Tensors[node.Weights[1]].Data : [];
                        step.Conv = backend.PrepareConv2d(GraphOps.ConvSpec(node, inShape, graph.Tensors), graph.Tensors[node.Weights[0]].Data, bias);
                        layers.Add(step.Conv);
                        break;
                    }
                    case GraphOps.Linear:
                    {
                        var bias = node.Weights.Length > 1 ? graph.Tensors[node.Weights[1]].Data : [];
                        step.Linear = backend.PrepareLinear(GraphOps.LinearSpecOf(node, inShape, graph.Tensors), graph.Tensors[node.Weights[0]].Data, bias);
                        layers.Add(step.Linear);
                        break;
                    }
                    case GraphOps.MaxPool:
                    case GraphOps.AveragePool:
                        step.Pool = GraphOps.PoolSpec(node, inShape);
                        break;
                    case GraphOps.Unary:
                        step.Unary = GraphOps.UnarySpecOf(node, graph.Tensors);
                        break;
                    case GraphOps.Gather:
                    case GraphOps.Scatter:
                    {
                        var indices = node.Attr("indices");
                        step.Indices = backend.Allocate<int>(indices.Length);
                        layers.Add(step.Indices);
                        backend.Upload<int>(indices, step.Indices);
                        break;
                    }
                    case GraphOps.Embedding:
                    {
                        var table = graph.Tensors[node.Weights[0]];
                        step.Table = Upload(backend, table.Data);
                        step.Vocabulary = table.Shape[0];
                        break;
                    }
                    case GraphOps.LayerNorm:
                    {
                        var (gamma, beta, epsilon) = GraphOps.LayerNormOf(node, inShape, graph.Tensors);
                        step.Gamma = Upload(backend, gamma);
                        step.Beta = Upload(backend, beta);
                        step.Epsilon = epsilon;
                        break;
                    }
                }
                list.Add(step);
            }
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
        steps = [.. list];
        // The tape releases a storage after its last reader; a Reshape is a reader, so the storage behind the graph
        // output must be kept or the trailing Reshape (e.g. view(-1)) would release it before the caller reads it.
        outputViews = [graph.OutputName];
        for (int k = steps.Length - 1; k >= 0; k--)
            if ((steps[k].Node.Op == GraphOps.Reshape || steps[k].Skip) && outputViews.Contains(steps[k].Node.Output))
                outputViews.Add(steps[k].Node.Inputs[0]);
    }

    /// <summary>The Sigmoid step and x when <paramref name="mul"/> is x * Sigmoid(x) (either order) and the Sigmoid has no other reader.</summary>
    static (Step Sigmoid, string X)? SiluOperand(List<Step> earlier, GraphNode mul, Dictionary<string, int> readers, string graphOutput)
    {
        for (int k = 0; k < 2; k++)
        {
            string s = mul.Inputs[k], x = mul.Inputs[1 - k];
            var producer = earlier.LastOrDefault(p => p.Node.Output == s);
            if (producer is { Op: GraphOps.Sigmoid, Elided: false } && producer.Inputs[0] == x && readers[s] == 1 && s != graphOutput)
                return (producer, x);
        }
        return null;
    }

    /// <summary>
    /// The chain d = α·x, e = erf d, f = e + 1, g = x·f ending in <paramref name="half"/> = ½·g (Unary Affine nodes, as the
    /// importer writes torch's exact GELU on tokens), every intermediate read once and none the graph output: the
    /// four earlier steps, x and α.
    /// </summary>
    static (Step[] Chain, string X, float Alpha)? GeluOperand(List<Step> earlier, ModelGraph graph, GraphNode half, Dictionary<string, int> readers)
    {
        Step? Producer(string value) => earlier.LastOrDefault(p => p.Node.Output == value && !p.Elided);
        bool Single(Step s) => readers.GetValueOrDefault(s.Node.Output) == 1 && s.Node.Output != graph.OutputName;
        static bool Affine(Step s, float scale, float shift) => s.Op == GraphOps.Unary && s.Unary.Kind == UnaryKind.Affine && s.Unary.Alpha == scale && s.Unary.Min == shift;
        var h = GraphOps.UnarySpecOf(half, graph.Tensors);
        if (h is not { Kind: UnaryKind.Affine, Alpha: 0.5f, Min: 0f }) return null;
        if (Producer(half.Inputs[0]) is not { Op: GraphOps.Mul } g || !Single(g)) return null;
        for (int k = 0; k < 2; k++)
        {
            string x = g.Inputs[k];
            if (Producer(g.Inputs[1 - k]) is not { } f || !Single(f) || !Affine(f, 1f, 1f)) continue;
            if (Producer(f.Inputs[0]) is not { Op: GraphOps.Unary, Unary.Kind: UnaryKind.Erf } e || !Single(e)) continue;
            if (Producer(e.Inputs[0]) is not { } d || !Single(d) || d.Op != GraphOps.Unary || d.Unary.Kind != UnaryKind.Affine || d.Unary.Min != 0f
                || d.Inputs[0] != x) continue;
            return ([d, e, f, g], x, d.Unary.Alpha);
        }
        return null;
    }

    /// <summary>Frozen per-feature parameters on the device, freed with the prepared layers.</summary>
    DeviceBuffer<float> Upload(IBackend backend, float[] values)
    {
        var buffer = backend.Allocate<float>(values.Length);
        layers.Add(buffer);
        backend.Upload<float>(values, buffer);
        return buffer;
    }

    public ModelGraph Graph { get; }
    public IBackend Backend { get; }

    /// <summary>Graph nodes folded into a fused step (a SiLU's Sigmoid, a GELU's four leading ops): never run on their own.</summary>
    public int FusedAwayNodes => steps.Count(s => s.Elided);
    public int[] InputShape { get; }
    public int[] OutputShape { get; }
    public int InputSize { get; }
    public int OutputSize { get; }

    /// <summary>
    /// Records the graph on <paramref name="tape"/>: input [N, ...InputShape] → output [N, ...OutputShape]. The output's
    /// storage is kept (<see cref="Tape.Keep"/>) so it stays readable until the tape's Reset.
    /// </summary>
    public Tensor Run(Tape tape, Tensor input) => Run(tape, input, null);

    /// <summary>
    /// <see cref="Run(Tape, Tensor)"/>; values named in <paramref name="shared"/> (<see cref="SharedValues"/>) are the same
    /// in every row, so they are computed on row 0 alone ([1, ...] tensors) and meet the per-sample values through
    /// <see cref="Tape.AddRow"/> (an Add) or <see cref="Tape.RepeatRow"/> (any other reader).
    /// </summary>
    Tensor Run(Tape tape, Tensor input, HashSet<string>? shared)
    {
        int batch = input.Batch;
        var expected = new[] { batch }.Concat(InputShape);
        if (!input.Shape.SequenceEqual(expected))
            throw ShapeException.Mismatch($"graph '{Graph.OutputName}'", "input", "[" + string.Join(", ", expected) + "]", input.ShapeText);
        var values = new Dictionary<string, Tensor> { [Graph.InputName] = input };
        Dictionary<string, Tensor>? repeated = null;
        if (shared is not null)
        {
            // the input seen by the shared part: a one-row view of row 0 (over the caller's buffer)
            var firstRow = tape.Leaf(input.Buffer, [1, .. InputShape]);
            if (shared.Contains(Graph.InputName)) values[Graph.InputName] = firstRow;
            else values[SharedInputName] = firstRow;
            repeated = [];
        }
        Tensor Read(Step s, int k)
        {
            string name = s.Inputs[k];
            if (shared is null || !shared.Contains(name) || shared.Contains(s.Node.Output)) return values[name];
            if (!repeated!.TryGetValue(name, out var full)) repeated[name] = full = tape.RepeatRow(values[name], batch);
            return full;
        }
        foreach (var s in steps)
        {
            var node = s.Node;
            var inputs = s.Inputs;
            if (s.Elided) continue;
            bool sharedStep = shared is not null && shared.Contains(node.Output);
            if (sharedStep && s.Op == GraphOps.Gather && inputs[0] == Graph.InputName && !shared!.Contains(Graph.InputName))
            {
                values[node.Output] = tape.GatherColumns(values[SharedInputName], s.Indices!, s.OutShape[0]);
                continue;
            }
            if (s.Skip)
            {
                values[node.Output] = values[inputs[0]]; // ReLU already applied by the producer
                continue;
            }
            Tensor y;
            if (s.Op == GraphOps.Add && shared is not null && !sharedStep && (shared.Contains(inputs[0]) || shared.Contains(inputs[1])))
                y = shared.Contains(inputs[1]) ? tape.AddRow(values[inputs[0]], values[inputs[1]])
                    : tape.AddRow(values[inputs[1]], values[inputs[0]]);
            else
            {
                var x = Read(s, 0);
                int rows = x.Batch;
                y = s.Op switch
                {
                    GraphOps.Conv => tape.Conv2d(x, s.Conv!, s.FusedRelu),
                    GraphOps.Linear => x.Shape.Length == 2 ? tape.Linear(x, s.Linear!, s.FusedRelu)
                        : tape.Reshape(tape.Linear(tape.Reshape(x, -1, x.Shape[^1]), s.Linear!, s.FusedRelu), [rows, .. s.OutShape]),
                    GraphOps.MatMul => tape.MatMul(x, Read(s, 1)),
                    GraphOps.Embedding => tape.Embedding(x, s.Table!, s.Vocabulary, s.OutShape[^1]),
                    GraphOps.Relu => tape.Relu(x),
                    GraphOps.Sigmoid => tape.Sigmoid(x),
                    GraphOps.Unary => tape.Unary(x, s.Unary),
                    GraphOps.Add => tape.Add(x, Read(s, 1)),
                    GraphOps.Mul => tape.Multiply(x, Read(s, 1)),
                    GraphOps.LayerNorm => tape.LayerNorm(x, s.Gamma!, s.Beta!, s.Epsilon),
                    GraphOps.RowOp => tape.RowOp(x, (RowOpKind)node.Attr("kind")[0]),
                    GraphOps.Gather => tape.GatherColumns(x, s.Indices!, s.OutShape[0]),
                    GraphOps.Scatter => tape.ScatterColumns(x, s.Indices!, s.OutShape[0]),
                    GraphOps.MaxPool => tape.MaxPool2d(x, s.Pool!),
                    GraphOps.AveragePool => tape.AvgPool2d(x, s.Pool!),
                    GraphOps.GlobalAveragePool => tape.Reshape(tape.GlobalAvgPool(x), [rows, .. s.OutShape]),
                    GraphOps.Reshape => tape.Reshape(x, [rows, .. s.OutShape]),
                    _ => throw new GraphException($"node '{node.Name}': op {node.Op} has no executor"),
                };
            }
            values[node.Output] = outputViews.Contains(node.Output) ? tape.Keep(y) : y;
        }
        if (outputViews.Contains(Graph.InputName)) tape.Keep(input);
        var output = values[Graph.OutputName];
        return output.Batch == batch ? output : tape.Keep(tape.RepeatRow(output, batch));
    }

    const string SharedInputName = "\u0000input row 0";

    /// <summary>
    /// The values that are the same in every row when the input's per-sample entries <paramref name="sharedColumns"/>
    /// are (e.g. a diffusion timestep column): Gathers of the input that read only those entries, and every op whose
    /// inputs are all such values (the ops here are per-sample and frozen weights are no input).
    /// </summary>
    public HashSet<string> SharedValues(IReadOnlyCollection<int> sharedColumns)
    {
        foreach (int c in sharedColumns)
            if (c < 0 || c >= InputSize)
                throw new ArgumentOutOfRangeException(nameof(sharedColumns), c, $"shared input column outside [0, {InputSize})");
        var columns = sharedColumns.ToHashSet();
        var shared = new HashSet<string>();
        if (columns.Count == InputSize) shared.Add(Graph.InputName);
        foreach (var s in steps)
        {
            var node = s.Node;
            bool fromSharedColumns = s.Op == GraphOps.Gather && s.Inputs[0] == Graph.InputName && InputShape.Length == 1
                && node.Attr("indices").All(columns.Contains);
            if (fromSharedColumns || s.Inputs.All(shared.Contains)) shared.Add(node.Output);
        }
        return shared;
    }

    /// <summary>output = graph(input) for a batch of flat inputs (batch × InputSize → batch × OutputSize).</summary>
    public void Forward(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output) => Forward(batch, input, output, null);

    /// <summary>
    /// <see cref="Forward(int, DeviceBuffer{float}, DeviceBuffer{float})"/> for a batch whose input entries
    /// <paramref name="sharedColumns"/> hold the same values in every row (the caller's promise; row 0's are used):
    /// what depends on them alone is computed once, not per sample. Every row's result is the one it would get alone.
    /// </summary>
    public void Forward(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output, IReadOnlyCollection<int>? sharedColumns)
    {
        HashSet<string>? shared = null;
        if (sharedColumns is { Count: > 0 })
        {
            if (sharedPlan is null || !sharedPlan.Value.Columns.SetEquals(sharedColumns))
                sharedPlan = (sharedColumns.ToHashSet(), SharedValues(sharedColumns));
            shared = sharedPlan.Value.Values;
        }
        var tape = forwardTape ??= new Tape(Backend) { RecordGradients = false };
        try
        {
            var y = Run(tape, tape.Leaf(input, [batch, .. InputShape]), shared);
            Backend.Copy(y.Buffer, output, (long)batch * OutputSize);
        }
        finally { tape.Reset(); }
    }

    (HashSet<int> Columns, HashSet<string> Values)? sharedPlan;

    /// <summary>
    /// Forward, then dInput = seedScale · Σ_outputs ∂output/∂input per sample (overwrites dInput; zero where no path).
    /// </summary>
    public void ForwardBackward(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output, DeviceBuffer<float> dInput, float seedScale)
    {
        var tape = backwardTape ??= new Tape(Backend);
        try
        {
            var x = tape.Leaf(input, [batch, .. InputShape], requiresGrad: true);
            var y = Run(tape, x);
            Backend.Copy(y.Buffer, output, (long)batch * OutputSize);
            tape.Backward(y, seedScale);
            if (x.Grad is { } g) Backend.Copy(g, dInput, (long)batch * InputSize);
            else Backend.Fill(dInput, 0f, (long)batch * InputSize);
        }
        finally { tape.Reset(); }
    }

    public void Dispose()
    {
        forwardTape?.Dispose();
        backwardTape?.Dispose();
        foreach (var l in layers) l.Dispose();
        layers.Clear();
    }
}
