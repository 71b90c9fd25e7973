using Kiago.Autodiff;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;
using Kiago.Tests.Nets.Uncertainty;

namespace Kiago.Tests.Nets;

/// <summary>An MLP on the flattened periodic-table image runs folded onto the 118 fractions: the same outputs and gradients.</summary>
public sealed class FeaturiserFoldingTests
{
    static readonly string[] Formulas = ["YBa2Cu3O7", "MgB2", "Nb3Sn", "HgBa2Ca2Cu3O8", "LaFeAsO0.9F0.1"];

    [Fact]
    public void An_image_mlp_folds_onto_the_fractions_and_keeps_its_outputs_and_input_gradients()
    {
        var image = RandomMembers.Mlp(ModelKind.TcResNet, 7, hidden: 16);
        var folded = FeaturiserFolding.Fold(image);
        Assert.Equal(ModelKind.Fractions, folded.Kind);
        Assert.Equal([16, 118], folded.Graph.Tensors[folded.Graph.Nodes[0].Weights[0]].Shape);
        Assert.Equal(image.Graph.Nodes.Count - 1, folded.Graph.Nodes.Count);

        using var backend = new CpuBackend(threads: 1);
        int batch = Formulas.Length;
        var x = new float[batch * 118];
        for (int b = 0; b < batch; b++) Composition.Parse(Formulas[b]).WriteFractions(x.AsSpan(b * 118, 118));
        // the unfolded function: the image featuriser, then the original graph, on a tape
        using var featuriser = new Featuriser(ModelKind.TcResNet, backend);
        using var executor = new GraphExecutor(image.Graph, backend);
        using var tape = new Tape(backend);
        using var xb = backend.Allocate<float>(x.Length);
        backend.Upload<float>(x, xb);
        var leaf = tape.Leaf(xb, [batch, 118], requiresGrad: true);
        var y = executor.Run(tape, featuriser.Apply(tape, leaf));
        tape.Backward(y, 1f);
        var expectedY = new float[batch];
        var expectedGrad = new float[x.Length];
        backend.Download(y.Buffer, expectedY);
        backend.Download(leaf.Grad!, expectedGrad);

        using var model = new GraphModel(image, backend); // folds internally
        using var yb = backend.Allocate<float>(batch);
        using var gb = backend.Allocate<float>(x.Length);
        backend.Fill(gb, 0f, x.Length);
        model.ForwardBackward(batch, xb, yb, gb, 1f);
        var gotY = new float[batch];
        var gotGrad = new float[x.Length];
        backend.Download(yb, gotY);
        backend.Download(gb, gotGrad);
        double yScale = expectedY.Max(Math.Abs), gScale = expectedGrad.Max(Math.Abs);
        Assert.True(gScale > 1e-3, "the gradient should be non-trivial");
        for (int b = 0; b < batch; b++) Assert.True(Math.Abs(gotY[b] - expectedY[b]) <= 1e-5 * (1 + yScale), $"y[{b}] {gotY[b]} vs {expectedY[b]}");
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(gotGrad[i] - expectedGrad[i]) <= 1e-5 * gScale, $"dx[{i}] {gotGrad[i]} vs {expectedGrad[i]}");
        Assert.Equal(ModelKind.TcResNet, model.Kind); // what the file says is kept
    }

    [Fact]
    public void Models_that_are_not_an_image_mlp_are_left_alone()
    {
        var resnet = TestModelsFolding.TinyResNet();
        Assert.Same(resnet, FeaturiserFolding.Fold(resnet));
        var elemnet = RandomMembers.Mlp(ModelKind.ElemNet, 3);
        Assert.Same(elemnet, FeaturiserFolding.Fold(elemnet));
    }
}

internal static class TestModelsFolding
{
    public static WeightModel TinyResNet() => Kiago.Tests.Hardening.TestModels.Model(ModelKind.TcResNet);
}
