using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Kernels;

namespace Kiago.Tests.Nets;

/// <summary>
/// The element-wise ONNX functions (Tanh, Exp, Log, Sqrt, Neg, Abs, Softplus, LeakyRelu, Clip) import as graph-IR
/// Unary nodes, survive a .kgw round trip, and run forward and input backward through the tape against a double
/// reference and finite differences.
/// </summary>
public sealed class UnaryImportTests
{
    static OnnxValueInfo Value(string name, params long[] dims) => new(name, OnnxDataType.Float, [.. dims.Select(d => new OnnxDim(d, null))]);
    static OnnxTensor T(string name, long[] dims, float[] data) => new(name, OnnxDataType.Float, dims, data, null, 0);
    static OnnxAttribute Float(string name, float v) => new(name, OnnxAttribute.FloatType, v, 0, null, null, [], [], []);

    static ModelGraph Import(OnnxNode[] nodes, OnnxTensor[] tensors, long opset = 13, int width = 4) =>
        OnnxImporter.Import(new OnnxModel("unary.onnx", 8, "test", "", new Dictionary<string, long> { [""] = opset },
            new OnnxGraph("g", nodes, tensors, [Value("x", 1, width)], [Value(nodes[^1].Outputs[0], 1, width)])));

    static OnnxNode N(string op, string input, string output, params OnnxAttribute[] attributes) => new(output, op, "", [input], [output], attributes);

    [Fact]
    public void A_chain_of_every_function_imports_round_trips_and_matches_the_reference_and_its_gradient()
    {
        var g = Import(
        [
            N("Tanh", "x", "a"), N("Softplus", "a", "b"), N("Sqrt", "b", "c"), N("Log", "c", "d"), N("Exp", "d", "e"),
            N("Neg", "e", "f"), N("LeakyRelu", "f", "h", Float("alpha", 0.2f)), N("Abs", "h", "i"),
            new("clip", "Clip", "", ["i", "lo", "hi"], ["y"], []),
        ],
        [T("lo", [], [0.05f]), T("hi", [], [0.3f])]);
        Assert.All(g.Nodes, n => Assert.Equal(GraphOps.Unary, n.Op));
        Assert.Equal(9, g.Nodes.Count);

        static double Leaky(double v) => v > 0 ? v : 0.2 * v;
        double[] Reference(double[] x) => [.. x.Select(v =>
        {
            double a = Math.Tanh(v), b = Math.Log(1 + Math.Exp(a)), c = Math.Sqrt(b), d = Math.Log(c), e = Math.Exp(d);
            return Math.Min(Math.Max(Math.Abs(Leaky(-e)), 0.05), 0.3);
        })];
        using var backend = new CpuBackend(threads: 1);
        using var executor = new GraphExecutor(g, backend);
        double[] x = [-1.2, -0.4, 0.1, 0.35, 0.9, -2.0, 1.5, 0.02];
        using var xb = backend.Allocate<float>(8);
        backend.Upload<float>([.. x.Select(v => (float)v)], xb);
        using var yb = backend.Allocate<float>(8);
        using var dxb = backend.Allocate<float>(8);
        executor.ForwardBackward(2, xb, yb, dxb, 1f);
        var y = new float[8]; backend.Download<float>(yb, y);
        var dx = new float[8]; backend.Download<float>(dxb, dx);
        var want = Reference(x);
        for (int i = 0; i < 8; i++) Assert.Equal(want[i], y[i], 5);
        var fd = ReferenceOps.FiniteDifferenceGradient(Reference, x, [.. Enumerable.Repeat(1.0, 8)]);
        for (int i = 0; i < 8; i++) Assert.Equal(fd[i], dx[i], 3);
        Assert.Contains(fd, v => Math.Abs(v) > 1e-3); // some inputs lie inside the clip window
    }

    [Fact]
    public void Unary_nodes_round_trip_through_a_kgw_file_with_kind_and_params()
    {
        var g = Import([N("Tanh", "x", "a"), N("LeakyRelu", "a", "b", Float("alpha", 0.3f)), new("clip", "Clip", "", ["b", "lo", "hi"], ["y"], [])],
            [T("lo", [], [-0.25f]), T("hi", [], [0.5f])], width: 86);
        var model = new WeightModel(ModelKind.ElemNet, [.. Kiago.Nets.Featurisers.Featuriser.Layout(ModelKind.ElemNet).Accepted], "y", "eV/atom", g, "{}", "test");
        string path = Path.Combine(Path.GetTempPath(), $"kiago-unary-{Guid.NewGuid():N}.kgw");
        try
        {
            WeightFile.Write(path, model);
            var back = WeightFile.Read(path).Graph;
            Assert.Equal(g.Nodes.Select(n => (n.Op, n.Attr("kind")[0])), back.Nodes.Select(n => (n.Op, n.Attr("kind")[0])));
            Assert.Equal([(int)UnaryKind.Tanh, (int)UnaryKind.LeakyRelu, (int)UnaryKind.Clip], back.Nodes.Select(n => n.Attr("kind")[0]));
            foreach (var n in g.Nodes) Assert.Equal(g.Tensors[n.Weights[0]].Data, back.Tensors[n.Weights[0]].Data);
            Assert.Equal(new UnarySpec(UnaryKind.Clip, 0.01f, -0.25f, 0.5f), GraphOps.UnarySpecOf(back.Nodes[2], back.Tensors));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Clip_takes_attribute_bounds_before_opset_11_and_refuses_inverted_bounds()
    {
        var g = Import([N("Clip", "x", "y", Float("min", -1f), Float("max", 2f))], [], opset: 9);
        Assert.Equal([0.01f, -1f, 2f], g.Tensors[g.Nodes[0].Weights[0]].Data); // alpha (unused by Clip), min, max
        var e = Assert.Throws<ModelImportException>(() => Import([N("Clip", "x", "y", Float("min", 3f), Float("max", 2f))], [], opset: 9));
        Assert.Contains("min 3 is above max 2", e.Message);
        Assert.Contains("unary.onnx", e.Message);
    }
}
