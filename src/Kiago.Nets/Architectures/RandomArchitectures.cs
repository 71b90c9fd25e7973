using Kiago.Kernels;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Nets.Architectures;

/// <summary>
/// KIAGO's two predictor architectures with seeded random He-normal weights, as graphs: ResNet18 on the 4×7×32
/// periodic-table image (BatchNorm folded into the conv biases, as import does) and ElemNet on 86 fractions. They
/// are the workloads of <c>kiago bench</c>, the benchmarks and <c>--tc-model random</c>; the same architecture as
/// training/kiago_models.py and ../shared/peer. Their predictions mean nothing.
/// </summary>
public static class RandomArchitectures
{
    /// <summary>ElemNet's hidden widths (Linear + ReLU each), then Linear → 1.</summary>
    public static readonly int[] ElemNetWidths = [1024, 1024, 1024, 1024, 512, 512, 512, 256, 256, 256, 128, 128, 128, 64, 64, 32];

    /// <summary>ResNet18: stem conv7×7/2 + maxpool, four residual stages of two basic blocks, GAP + fc 512→1 + ReLU.</summary>
    public static Architecture ResNet18(int seed = 0, int inChannels = 4, int height = 7, int width = 32)
    {
        var g = new Builder(new Random(seed), "image", [inChannels, height, width]);
        g.BeginStage("stem conv7x7/2 + maxpool");
        var x = g.Conv(g.Input, 64, 7, 2, 3, relu: true, "stem");
        x = g.MaxPool(x, 3, 2, 1, "stem.pool");
        g.EndStage(x);
        int[] widths = [64, 128, 256, 512];
        for (int s = 0; s < widths.Length; s++)
        {
            int cin = g.Channels(x), cout = widths[s], stride = s == 0 ? 1 : 2;
            var shape = g.Shape(x);
            g.BeginStage($"layer{s + 1} {cin}->{cout} on {shape[1]}x{shape[2]}");
            string p = $"layer{s + 1}";
            // weight order kept from the engine's first benchmark nets: b1c1, b1c2, downsample, b2c1, b2c2
            var h = g.Conv(x, cout, 3, stride, 1, relu: true, p + ".0.conv1");
            h = g.Conv(h, cout, 3, 1, 1, relu: false, p + ".0.conv2");
            var shortcut = stride != 1 || cin != cout ? g.Conv(x, cout, 1, stride, 0, relu: false, p + ".0.downsample") : x;
            var y = g.Relu(g.Add(h, shortcut, p + ".0.add"), p + ".0.relu");
            h = g.Conv(y, cout, 3, 1, 1, relu: true, p + ".1.conv1");
            h = g.Conv(h, cout, 3, 1, 1, relu: false, p + ".1.conv2");
            x = g.Relu(g.Add(h, y, p + ".1.add"), p + ".1.relu");
            g.EndStage(x);
        }
        g.BeginStage("head gap + fc 512->1");
        x = g.GlobalAveragePool(x, "head.gap");
        x = g.Reshape(x, [g.Channels(x)], "head.flatten");
        x = g.Relu(g.Linear(x, 1, gain: 1, bias: BiasKind.One, "head.fc"), "head.relu");
        g.EndStage(x);
        return g.Build("resnet18", ModelKind.TcResNet);
    }

    /// <summary>ElemNet: 86 → 1024×4 → 512×3 → 256×3 → 128×3 → 64×2 → 32 → 1, Linear + ReLU, zero biases.</summary>
    public static Architecture ElemNet(int seed = 1, int inputs = 86)
    {
        var g = new Builder(new Random(seed), "fractions", [inputs]);
        g.BeginStage("elemnet");
        var x = g.Input;
        for (int i = 0; i < ElemNetWidths.Length; i++)
            x = g.Relu(g.Linear(x, ElemNetWidths[i], gain: 2, bias: BiasKind.Zero, $"fc{i}"), $"relu{i}");
        x = g.Linear(x, 1, gain: 1, bias: BiasKind.Zero, "out");
        g.EndStage(x);
        return g.Build("elemnet", ModelKind.ElemNet);
    }

    enum BiasKind { Zero, One }

    /// <summary>Appends nodes and their random tensors, tracking each value's shape and the stages' node ranges.</summary>
    sealed class Builder(Random rng, string input, int[] inputShape)
    {
        readonly List<GraphNode> nodes = [];
        readonly Dictionary<string, WeightTensor> tensors = [];
        readonly Dictionary<string, int[]> shapes = new() { [input] = inputShape };
        readonly List<ArchitectureStage> stages = [];
        (string Name, string Input, int First, long Macs)? open;

        public string Input => input;
        public int[] Shape(string value) => shapes[value];
        public int Channels(string value) => shapes[value][0];

        public void BeginStage(string name) => open = (name, nodes.Count == 0 ? input : nodes[^1].Output, nodes.Count, 0);

        public void EndStage(string output)
        {
            var (name, stageInput, first, macs) = open ?? throw new InvalidOperationException("no stage open");
            var stageNodes = nodes.Skip(first).ToList();
            var used = stageNodes.SelectMany(n => n.Weights).ToHashSet();
            var graph = new ModelGraph(stageInput, shapes[stageInput], output, stageNodes,
                tensors.Where(kv => used.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => kv.Value));
            stages.Add(new ArchitectureStage(name, graph, macs));
            open = null;
        }

        public Architecture Build(string name, ModelKind kind) =>
            new(name, kind, new ModelGraph(input, inputShape, nodes[^1].Output, nodes, tensors), stages);

        string Emit(string name, string op, string[] inputs, string[] weights, Dictionary<string, int[]> attributes)
        {
            var node = new GraphNode(name, op, inputs, name, weights, attributes);
            shapes[name] = GraphOps.InferShape(node, [.. inputs.Select(i => shapes[i])], tensors);
            nodes.Add(node);
            return name;
        }

        void AddMacs(long macs)
        {
            if (open is { } o) open = o with { Macs = o.Macs + macs };
        }

        public string Conv(string x, int outChannels, int kernel, int stride, int pad, bool relu, string name)
        {
            int cin = Channels(x);
            int fanIn = cin * kernel * kernel;
            tensors[name + ".weight"] = new(name + ".weight", [outChannels, cin, kernel, kernel], HeNormal(outChannels * fanIn, fanIn, 2));
            tensors[name + ".bias"] = new(name + ".bias", [outChannels], HeNormal(outChannels, 1, 0.01));
            var y = Emit(name, GraphOps.Conv, [x], [name + ".weight", name + ".bias"], new()
            {
                ["kernel"] = [kernel, kernel], ["strides"] = [stride, stride], ["pads"] = [pad, pad, pad, pad],
                ["dilations"] = [1, 1], ["group"] = [1],
            });
            var o = Shape(y);
            AddMacs((long)fanIn * o[0] * o[1] * o[2]);
            return relu ? Relu(y, name + ".relu") : y;
        }

        public string Linear(string x, int outFeatures, double gain, BiasKind bias, string name)
        {
            int inFeatures = Shape(x)[0];
            tensors[name + ".weight"] = new(name + ".weight", [outFeatures, inFeatures], HeNormal(outFeatures * inFeatures, inFeatures, gain));
            tensors[name + ".bias"] = new(name + ".bias", [outFeatures], bias == BiasKind.One ? [.. Enumerable.Repeat(1f, outFeatures)] : new float[outFeatures]);
            AddMacs((long)inFeatures * outFeatures);
            return Emit(name, GraphOps.Linear, [x], [name + ".weight", name + ".bias"], []);
        }

        public string Relu(string x, string name) => Emit(name, GraphOps.Relu, [x], [], []);
        public string Add(string a, string b, string name) => Emit(name, GraphOps.Add, [a, b], [], []);
        public string GlobalAveragePool(string x, string name) => Emit(name, GraphOps.GlobalAveragePool, [x], [], []);
        public string Reshape(string x, int[] shape, string name) => Emit(name, GraphOps.Reshape, [x], [], new() { ["shape"] = shape });

        public string MaxPool(string x, int kernel, int stride, int pad, string name) => Emit(name, GraphOps.MaxPool, [x], [], new()
        {
            ["kernel"] = [kernel, kernel], ["strides"] = [stride, stride], ["pads"] = [pad, pad, pad, pad], ["dilations"] = [1, 1], ["ceil"] = [0],
        });

        float[] HeNormal(int count, int fanIn, double gain)
        {
            double sigma = Math.Sqrt(gain / fanIn);
            var values = new float[count];
            for (int i = 0; i < count; i++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                values[i] = (float)(sigma * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
            }
            return values;
        }
    }
}
