using Kiago.Kernels;

namespace Kiago.Autodiff.BenchNets;

/// <summary>
/// ResNet18 and ElemNet with random He-normal weights, built directly from tape ops: the engine benchmarks'
/// workloads (no weight files, no ONNX). Same architecture as shared/peer/kiago_torch.py with BatchNorm folded
/// into conv biases. Not the production models (Kiago.Nets imports those).
/// </summary>
public sealed class RandomResNet18 : IDisposable
{
    readonly List<IDisposable> layers = new();

    public RandomResNet18(IBackend backend, int inChannels = 4, int height = 7, int width = 32, int seed = 0)
    {
        var rng = new Random(seed);
        InputShape = [inChannels, height, width];
        var stem = Conv(backend, rng, new Conv2dSpec(inChannels, height, width, 64, 7, 7, 2, 2, 3, 3, 3, 3));
        var poolSpec = new Pool2dSpec(64, stem.Spec.OutHeight, stem.Spec.OutWidth, 3, 3, 2, 2, 1, 1, 1, 1);
        Stages.Add(new Stage("stem conv7x7/2 + maxpool", [inChannels, height, width],
            (tape, x) => tape.MaxPool2d(tape.Conv2d(x, stem, fuseRelu: true), poolSpec),
            stem.Spec.WeightCount / stem.Spec.OutChannels * (long)stem.Spec.OutSize));

        int channels = 64, h = poolSpec.OutHeight, w = poolSpec.OutWidth;
        int[] widths = [64, 128, 256, 512];
        for (int s = 0; s < 4; s++)
        {
            int cin = channels, cout = widths[s], stride = s == 0 ? 1 : 2, inH = h, inW = w;
            var b1c1 = Conv(backend, rng, new Conv2dSpec(cin, inH, inW, cout, 3, 3, stride, stride, 1, 1, 1, 1));
            int oh = b1c1.Spec.OutHeight, ow = b1c1.Spec.OutWidth;
            var b1c2 = Conv(backend, rng, new Conv2dSpec(cout, oh, ow, cout, 3, 3, 1, 1, 1, 1, 1, 1));
            IConv2d? down = stride != 1 || cin != cout
                ? Conv(backend, rng, new Conv2dSpec(cin, inH, inW, cout, 1, 1, stride, stride)) : null;
            var b2c1 = Conv(backend, rng, new Conv2dSpec(cout, oh, ow, cout, 3, 3, 1, 1, 1, 1, 1, 1));
            var b2c2 = Conv(backend, rng, new Conv2dSpec(cout, oh, ow, cout, 3, 3, 1, 1, 1, 1, 1, 1));
            long macs = new[] { b1c1, b1c2, b2c1, b2c2 }.Concat(down is null ? [] : [down])
                .Sum(c => (long)c.Spec.WeightCount / c.Spec.OutChannels * c.Spec.OutSize);
            Stages.Add(new Stage($"layer{s + 1} {cin}->{cout} on {inH}x{inW}", [cin, inH, inW], (tape, x) =>
            {
                var shortcut = down is null ? x : tape.Conv2d(x, down);
                var y = tape.Relu(tape.Add(tape.Conv2d(tape.Conv2d(x, b1c1, fuseRelu: true), b1c2), shortcut));
                return tape.Relu(tape.Add(tape.Conv2d(tape.Conv2d(y, b2c1, fuseRelu: true), b2c2), y));
            }, macs));
            channels = cout; h = oh; w = ow;
        }
        var fc = Linear(backend, rng, 512, 1, gain: 1);
        Stages.Add(new Stage("head gap + fc 512->1", [512, h, w],
            (tape, x) => tape.Relu(tape.Linear(tape.GlobalAvgPool(x), fc)), 512));
    }

    public int[] InputShape { get; }

    /// <summary>The network in order: stem, four residual stages, head. Each maps its input shape (without batch) onward.</summary>
    public List<Stage> Stages { get; } = new();

    /// <summary>Dense (unpruned) multiply-accumulates per sample, forward.</summary>
    public long MacsPerSample => Stages.Sum(s => s.MacsPerSample);

    public Tensor Forward(Tape tape, Tensor image)
    {
        var x = image;
        foreach (var stage in Stages) x = stage.Forward(tape, x);
        return x;
    }

    IConv2d Conv(IBackend backend, Random rng, Conv2dSpec spec)
    {
        int fanIn = spec.WeightCount / spec.OutChannels;
        var conv = backend.PrepareConv2d(spec, HeNormal(rng, spec.WeightCount, fanIn, 2), HeNormal(rng, spec.OutChannels, 1, 0.01));
        layers.Add(conv);
        return conv;
    }

    ILinear Linear(IBackend backend, Random rng, int inFeatures, int outFeatures, double gain)
    {
        var linear = backend.PrepareLinear(new LinearSpec(inFeatures, outFeatures),
            HeNormal(rng, inFeatures * outFeatures, inFeatures, gain), [1f]);
        layers.Add(linear);
        return linear;
    }

    internal static float[] HeNormal(Random rng, int count, int fanIn, double gain)
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

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
    }

    public sealed record Stage(string Name, int[] InputShape, Func<Tape, Tensor, Tensor> Forward, long MacsPerSample);
}

/// <summary>ElemNet: 86 → 1024×4 → 512×3 → 256×3 → 128×3 → 64×2 → 32 → 1, Linear+ReLU, random He-normal weights.</summary>
public sealed class RandomElemNet : IDisposable
{
    public static readonly int[] Widths = [1024, 1024, 1024, 1024, 512, 512, 512, 256, 256, 256, 128, 128, 128, 64, 64, 32];
    readonly List<ILinear> layers = new();

    public RandomElemNet(IBackend backend, int inputs = 86, int seed = 1)
    {
        var rng = new Random(seed);
        int width = inputs;
        foreach (int next in Widths.Append(1))
        {
            bool head = next == 1 && layers.Count == Widths.Length;
            layers.Add(backend.PrepareLinear(new LinearSpec(width, next),
                RandomResNet18.HeNormal(rng, width * next, width, head ? 1 : 2), new float[next]));
            MacsPerSample += (long)width * next;
            width = next;
        }
        Inputs = inputs;
    }

    public int Inputs { get; }

    /// <summary>Multiply-accumulates per sample, forward.</summary>
    public long MacsPerSample { get; }

    public Tensor Forward(Tape tape, Tensor x)
    {
        for (int i = 0; i < layers.Count; i++) x = tape.Linear(x, layers[i], fuseRelu: i < layers.Count - 1);
        return x;
    }

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
    }
}
