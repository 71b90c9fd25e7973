using Kiago.Autodiff;
using Kiago.Autodiff.BenchNets;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Autodiff;

/// <summary>The benchmark workloads are well-formed: stages chain, outputs and input gradients are finite.</summary>
public sealed class BenchNetsTests
{
    [Fact]
    public void Random_resnet18_stages_chain_and_give_finite_input_gradients()
    {
        using var backend = new CpuBackend(threads: 2);
        using var net = new RandomResNet18(backend);
        Assert.Equal(6, net.Stages.Count);
        // 4×7×32: dense forward work from engine-notes §4 (17.84 M MAC/sample with BN, same convs here).
        Assert.InRange(net.MacsPerSample, 17_000_000, 18_500_000);
        using var tape = new Tape(backend);
        const int batch = 2;
        using var x = backend.Allocate<float>(batch * 4 * 7 * 32);
        backend.Fill(x, 0.5f, batch * 4 * 7 * 32);
        var h = tape.Leaf(x, [batch, 4, 7, 32], requiresGrad: true);
        var leaf = h;
        for (int s = 0; s < net.Stages.Count; s++)
        {
            Assert.Equal(net.Stages[s].InputShape, h.Shape[1..]);
            h = net.Stages[s].Forward(tape, h);
        }
        Assert.Equal([batch, 1], h.Shape);
        tape.Backward(h);
        var grad = new float[leaf.Length];
        backend.Download<float>(leaf.Grad!, grad);
        Assert.All(grad, g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Random_elemnet_has_the_published_widths()
    {
        using var backend = new CpuBackend(threads: 1);
        using var net = new RandomElemNet(backend);
        Assert.Equal(4_620_000, net.MacsPerSample, tolerance: 10_000); // engine-notes §4: 4.62 M MAC
        using var tape = new Tape(backend);
        using var x = backend.Allocate<float>(3 * 86);
        var y = net.Forward(tape, tape.Leaf(x, [3, 86], requiresGrad: true));
        Assert.Equal([3, 1], y.Shape);
    }
}
