using Kiago.Kernels;

namespace Kiago.Nets.Graph;

/// <summary>
/// Runs a <see cref="ModelGraph"/> on an <see cref="IBackend"/>: forward, and forward + backward to the input
/// (weights are frozen, so only input gradients are computed). Layers are prepared (packed, uploaded) once; activation,
/// gradient and scratch buffers are planned once for a batch capacity and reused on every call (re-planned only when a
/// larger batch arrives). A ReLU that is the only reader of a Conv/Linear output is fused into it.
/// Reshape outputs share their input's buffer.
/// </summary>
public sealed class GraphExecutor : IDisposable
{
    readonly IBackend backend;
    readonly Step[] steps;
    readonly int rootCount;
    readonly int[] rootSize;       // per-sample floats of each storage root
    readonly int inputRoot, outputRoot;
    readonly List<IDisposable> layers = [];
    DeviceBuffer<float>[] values = [], grads = [];
    DeviceBuffer<int>[] argmax = [];
    DeviceBuffer<float>? scratch;
    readonly bool[] written;
    int capacity;

    sealed class Step
    {
        public required GraphNode Node;
        public required int[] In;        // storage roots of the inputs
        public required int Out;         // storage root of the output
        public required int[] InSize;    // per-sample floats of each input
        public int OutSize;
        public IConv2d? Conv;
        public ILinear? Linear;
        public Pool2dSpec? Pool;
        public bool FusedRelu;
        public int ArgmaxSlot = -1;
        public int Channels, Spatial;    // GlobalAveragePool
        public bool Skip;                // fused ReLU or Reshape: no work of its own
    }

    public GraphExecutor(ModelGraph graph, IBackend backend)
    {
        this.backend = backend;
        Graph = graph;
        var shapes = graph.InferShapes();
        InputShape = graph.InputShape;
        OutputShape = shapes[graph.OutputName];
        InputSize = GraphOps.Size(InputShape);
        OutputSize = GraphOps.Size(OutputShape);

        // Storage roots: one per value, except Reshape outputs (views of their input) and fused ReLU outputs.
        var root = new Dictionary<string, int> { [graph.InputName] = 0 };
        var sizes = new List<int> { InputSize };
        var readers = new Dictionary<string, int>();
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs) readers[i] = readers.GetValueOrDefault(i) + 1;
        var stepList = new List<Step>();
        int argmaxSlots = 0;
        try
        {
            foreach (var node in graph.Nodes)
            {
                var inRoots = node.Inputs.Select(i => root[i]).ToArray();
                var inShapes = node.Inputs.Select(i => shapes[i]).ToArray();
                var step = new Step
                {
                    Node = node, In = inRoots, Out = -1, InSize = inShapes.Select(GraphOps.Size).ToArray(),
                    OutSize = GraphOps.Size(shapes[node.Output]),
                };
                switch (node.Op)
                {
                    case GraphOps.Reshape:
                        step.Skip = true;
                        root[node.Output] = inRoots[0];
                        step.Out = inRoots[0];
                        stepList.Add(step);
                        continue;
                    case GraphOps.Relu:
                    {
                        var producer = stepList.LastOrDefault(s => !s.Skip && s.Node.Output == node.Inputs[0]);
                        if (producer is { Conv: not null } or { Linear: not null } && !producer.FusedRelu
                            && readers[node.Inputs[0]] == 1 && node.Inputs[0] != graph.OutputName)
                        {
                            producer.FusedRelu = true;
                            step.Skip = true;
                            root[node.Output] = inRoots[0];
                            step.Out = inRoots[0];
                            stepList.Add(step);
                            continue;
                        }
                        break;
                    }
                    case GraphOps.Conv:
                    {
                        var spec = GraphOps.ConvSpec(node, inShapes[0], graph.Tensors);
                        var bias = node.Weights.Length > 1 ? graph.Tensors[node.Weights[1]].Data : [];
                        step.Conv = backend.PrepareConv2d(spec, graph.Tensors[node.Weights[0]].Data, bias);
                        layers.Add(step.Conv);
                        break;
                    }
                    case GraphOps.Linear:
                    {
                        var spec = GraphOps.LinearSpecOf(node, inShapes[0], graph.Tensors);
                        var bias = node.Weights.Length > 1 ? graph.Tensors[node.Weights[1]].Data : [];
                        step.Linear = backend.PrepareLinear(spec, graph.Tensors[node.Weights[0]].Data, bias);
                        layers.Add(step.Linear);
                        break;
                    }
                    case GraphOps.MaxPool:
                        step.Pool = GraphOps.PoolSpec(node, inShapes[0]);
                        step.ArgmaxSlot = argmaxSlots++;
                        break;
                    case GraphOps.AveragePool:
                        step.Pool = GraphOps.PoolSpec(node, inShapes[0]);
                        break;
                    case GraphOps.GlobalAveragePool:
                        step.Channels = inShapes[0][0];
                        step.Spatial = inShapes[0][1] * inShapes[0][2];
                        break;
                }
                step.Out = sizes.Count;
                root[node.Output] = sizes.Count;
                sizes.Add(step.OutSize);
                stepList.Add(step);
            }
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
        steps = [.. stepList];
        rootCount = sizes.Count;
        rootSize = [.. sizes];
        inputRoot = 0;
        outputRoot = root[graph.OutputName];
        written = new bool[rootCount];
        argmax = new DeviceBuffer<int>[argmaxSlots];
    }

    public ModelGraph Graph { get; }
    public int[] InputShape { get; }
    public int[] OutputShape { get; }
    public int InputSize { get; }
    public int OutputSize { get; }
    public IBackend Backend => backend;

    /// <summary>Batch size the buffers are currently planned for.</summary>
    public int Capacity => capacity;

    /// <summary>Plans buffers for batches up to <paramref name="batch"/> (called by Forward/ForwardBackward as needed).</summary>
    public void EnsureCapacity(int batch)
    {
        if (batch <= capacity) return;
        ReleaseBuffers();
        values = new DeviceBuffer<float>[rootCount];
        grads = new DeviceBuffer<float>[rootCount];
        int maxSize = 0;
        for (int r = 1; r < rootCount; r++)
        {
            values[r] = backend.Allocate<float>((long)batch * rootSize[r]);
            grads[r] = backend.Allocate<float>((long)batch * rootSize[r]);
            maxSize = Math.Max(maxSize, rootSize[r]);
        }
        scratch = backend.Allocate<float>((long)batch * Math.Max(maxSize, InputSize));
        foreach (var s in steps.Where(s => s.ArgmaxSlot >= 0))
            argmax[s.ArgmaxSlot] = backend.Allocate<int>((long)batch * s.OutSize);
        capacity = batch;
    }

    /// <summary>output[b] = graph(input[b]) for b &lt; batch (input: batch × InputSize; output: batch × OutputSize).</summary>
    public void Forward(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output)
    {
        Check(batch, input, "input", InputSize);
        Check(batch, output, "output", OutputSize);
        EnsureCapacity(batch);
        values[inputRoot] = input;
        foreach (var s in steps) Run(s, batch);
        backend.Copy(values[outputRoot], output, (long)batch * OutputSize);
    }

    /// <summary>
    /// Forward, then dInput = (∂output/∂input)ᵀ · dOutput per sample (overwrites dInput). dOutput is not modified.
    /// </summary>
    public void ForwardBackward(int batch, DeviceBuffer<float> input, DeviceBuffer<float> output,
        DeviceBuffer<float> dOutput, DeviceBuffer<float> dInput)
    {
        Check(batch, dOutput, "dOutput", OutputSize);
        Check(batch, dInput, "dInput", InputSize);
        Forward(batch, input, output);
        grads[inputRoot] = dInput;
        Array.Clear(written);
        long outCount = (long)batch * OutputSize;
        if (outputRoot == inputRoot)
        {
            backend.Copy(dOutput, dInput, outCount);
            return;
        }
        backend.Copy(dOutput, grads[outputRoot], outCount);
        written[outputRoot] = true;
        for (int k = steps.Length - 1; k >= 0; k--) Backprop(steps[k], batch);
        if (!written[inputRoot]) backend.Fill(dInput, 0f, (long)batch * InputSize);
    }

    void Check(int batch, DeviceBuffer<float> buffer, string name, int perSample)
    {
        if (batch < 0) throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be >= 0");
        if (buffer.Length < (long)batch * perSample)
            throw new ShapeException($"graph '{Graph.OutputName}': buffer '{name}' holds {buffer.Length} floats, needs {batch} × {perSample}");
    }

    void Run(Step s, int batch)
    {
        if (s.Skip) return;
        var x = values[s.In[0]];
        var y = values[s.Out];
        switch (s.Node.Op)
        {
            case GraphOps.Conv: s.Conv!.Forward(batch, x, y, s.FusedRelu); break;
            case GraphOps.Linear: s.Linear!.Forward(batch, x, y, s.FusedRelu); break;
            case GraphOps.Relu: backend.Relu(x, y, (long)batch * s.OutSize); break;
            case GraphOps.Add: backend.Add(x, values[s.In[1]], y, (long)batch * s.OutSize); break;
            case GraphOps.MaxPool: backend.MaxPool2d(s.Pool!, batch, x, y, argmax[s.ArgmaxSlot]); break;
            case GraphOps.AveragePool: backend.AvgPool2d(s.Pool!, batch, x, y); break;
            case GraphOps.GlobalAveragePool: backend.GlobalAvgPool(batch, s.Channels, s.Spatial, x, y); break;
            default: throw new GraphException($"node '{s.Node.Name}': op {s.Node.Op} has no executor");
        }
    }

    /// <summary>The buffer an input gradient contribution goes to: the root's own (first writer overwrites) or scratch.</summary>
    DeviceBuffer<float> Target(int r) => written[r] ? scratch! : grads[r];

    /// <summary>Completes a contribution written to <see cref="Target"/>: accumulates scratch into the root if needed.</summary>
    void Commit(int r, int batch)
    {
        if (written[r]) backend.Add(grads[r], scratch!, grads[r], (long)batch * rootSize[r]);
        written[r] = true;
    }

    void Backprop(Step s, int batch)
    {
        if (s.Skip) return;
        var dy = grads[s.Out];
        if (!written[s.Out]) backend.Fill(dy, 0f, (long)batch * s.OutSize); // output unused by the loss
        int r = s.In[0];
        switch (s.Node.Op)
        {
            case GraphOps.Conv:
                if (s.FusedRelu) backend.ReluBackward(values[s.Out], dy, dy, (long)batch * s.OutSize);
                s.Conv!.BackwardInput(batch, dy, Target(r));
                Commit(r, batch);
                break;
            case GraphOps.Linear:
                if (s.FusedRelu) backend.ReluBackward(values[s.Out], dy, dy, (long)batch * s.OutSize);
                s.Linear!.BackwardInput(batch, dy, Target(r));
                Commit(r, batch);
                break;
            case GraphOps.Relu:
                backend.ReluBackward(values[s.Out], dy, Target(r), (long)batch * s.OutSize);
                Commit(r, batch);
                break;
            case GraphOps.Add:
                foreach (int input in s.In)
                {
                    if (written[input]) backend.Add(grads[input], dy, grads[input], (long)batch * s.OutSize);
                    else backend.Copy(dy, grads[input], (long)batch * s.OutSize);
                    written[input] = true;
                }
                break;
            case GraphOps.MaxPool:
                backend.MaxPool2dBackward(s.Pool!, batch, dy, argmax[s.ArgmaxSlot], Target(r));
                Commit(r, batch);
                break;
            case GraphOps.AveragePool:
                backend.AvgPool2dBackward(s.Pool!, batch, dy, Target(r));
                Commit(r, batch);
                break;
            case GraphOps.GlobalAveragePool:
                backend.GlobalAvgPoolBackward(batch, s.Channels, s.Spatial, dy, Target(r));
                Commit(r, batch);
                break;
        }
    }

    void ReleaseBuffers()
    {
        for (int r = 1; r < values.Length; r++)
        {
            values[r]?.Dispose();
            grads[r]?.Dispose();
        }
        foreach (var a in argmax) a?.Dispose();
        scratch?.Dispose();
        capacity = 0;
    }

    public void Dispose()
    {
        ReleaseBuffers();
        foreach (var l in layers) l.Dispose();
        layers.Clear();
    }
}
