using Kiago.Autodiff;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Architectures;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets;

/// <summary>
/// The random-weight architectures (benchmarks, <c>--tc-model random</c>) are well-formed graphs of the IR that import
/// produces: their stages chain into the whole network bit for bit, the MAC counts are the engine notes' figures,
/// input gradients are finite, and they survive a .kgw round trip and run as composition models.
/// </summary>
public sealed class RandomArchitecturesTests
{
    [Fact]
    public void Resnet18_stages_chain_into_the_whole_network_bit_for_bit_with_finite_input_gradients()
    {
        var arch = RandomArchitectures.ResNet18();
        Assert.Equal(6, arch.Stages.Count);
        Assert.Equal([4, 7, 32], arch.InputShape);
        // 4×7×32: dense forward work from engine-notes §4 (17.84 M MAC/sample with BN, same convs here)
        Assert.InRange(arch.MacsPerSample, 17_000_000, 18_500_000);
        Assert.Equal(arch.Graph.Nodes.Count, arch.Stages.Sum(s => s.Graph.Nodes.Count));
        Assert.Equal(arch.Graph.Tensors.Count, arch.Stages.Sum(s => s.Graph.Tensors.Count));
        Assert.Equal(11_000_000, arch.Graph.ParameterCount, tolerance: 300_000); // ResNet18 with a 4-channel stem and one output

        using var backend = new CpuBackend(threads: 2);
        const int batch = 2;
        var host = Enumerable.Range(0, batch * 4 * 7 * 32).Select(i => (float)Math.Sin(i * 0.37) * 0.5f + 0.5f).ToArray();
        using var x = backend.Allocate<float>(host.Length);
        backend.Upload<float>(host, x);

        using var whole = new GraphExecutor(arch.Graph, backend);
        using var tape = new Tape(backend);
        var leaf = tape.Leaf(x, [batch, 4, 7, 32], requiresGrad: true);
        var y = tape.Keep(whole.Run(tape, leaf));
        Assert.Equal([batch, 1], y.Shape);
        var expected = new float[batch];
        backend.Download<float>(y.Buffer, expected);
        tape.Backward(y);
        var grad = new float[leaf.Length];
        backend.Download<float>(leaf.Grad!, grad);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
        Assert.Contains(grad, g => g != 0f);
        tape.Reset();

        var executors = arch.Stages.Select(s => new GraphExecutor(s.Graph, backend)).ToList();
        try
        {
            var h = tape.Leaf(x, [batch, 4, 7, 32], requiresGrad: false);
            for (int s = 0; s < executors.Count; s++)
            {
                Assert.Equal(arch.Stages[s].InputShape, h.Shape[1..]);
                h = executors[s].Run(tape, h);
            }
            var chained = new float[batch];
            backend.Download<float>(h.Buffer, chained);
            Assert.Equal(expected, chained);
        }
        finally
        {
            tape.Reset();
            foreach (var e in executors) e.Dispose();
        }
    }

    [Fact]
    public void Elemnet_has_the_published_widths_and_macs()
    {
        var arch = RandomArchitectures.ElemNet();
        Assert.Equal([86], arch.InputShape);
        Assert.Equal(4_620_000, arch.MacsPerSample, tolerance: 10_000); // engine-notes §4: 4.62 M MAC
        var linears = arch.Graph.Nodes.Where(n => n.Op == GraphOps.Linear).ToList();
        Assert.Equal([.. RandomArchitectures.ElemNetWidths, 1], linears.Select(n => arch.Graph.Tensors[n.Weights[0]].Shape[0]));
        Assert.Equal(linears.Count - 1, arch.Graph.Nodes.Count(n => n.Op == GraphOps.Relu)); // no ReLU on the output
    }

    [Fact]
    public void Same_seed_same_weights_and_another_seed_other_weights()
    {
        var a = RandomArchitectures.ElemNet(seed: 3).Graph.Tensors["fc0.weight"].Data;
        Assert.Equal(a, RandomArchitectures.ElemNet(seed: 3).Graph.Tensors["fc0.weight"].Data);
        Assert.NotEqual(a, RandomArchitectures.ElemNet(seed: 4).Graph.Tensors["fc0.weight"].Data);
    }

    [Theory]
    [InlineData(ModelKind.TcResNet)]
    [InlineData(ModelKind.ElemNet)]
    public void A_random_architecture_round_trips_through_a_kgw_and_predicts_the_same(ModelKind kind)
    {
        var arch = kind == ModelKind.TcResNet ? RandomArchitectures.ResNet18() : RandomArchitectures.ElemNet();
        string path = Path.Combine(Path.GetTempPath(), $"kiago-random-{kind}-{Guid.NewGuid():N}.kgw");
        try
        {
            WeightFile.Write(path, arch.ToWeightModel());
            using var backend = new CpuBackend(threads: 2);
            using var inMemory = new GraphModel(arch.ToWeightModel(), backend);
            using var loaded = GraphModel.Load(path, backend);
            Assert.Equal(kind, loaded.Kind);
            Composition[] formulas = [Composition.Parse("YBa2Cu3O7"), Composition.Parse("MgB2"), Composition.Parse("NaCl")];
            var want = Kiago.Design.Experiments.ModelPredictions.Predict(inMemory, formulas);
            Assert.Equal(want, Kiago.Design.Experiments.ModelPredictions.Predict(loaded, formulas));
            Assert.All(want, v => Assert.True(double.IsFinite(v)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
