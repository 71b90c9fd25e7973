using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;

namespace Kiago.Tests.Nets;

public class ImporterTests
{
    [Theory]
    [InlineData("tiny_resnet_op13.onnx")]
    [InlineData("tiny_resnet_nofold_op13.onnx")]
    [InlineData("tiny_resnet_op17.onnx")]
    public void ResNet_export_imports_to_conv_pool_add_linear(string file)
    {
        var g = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, file));
        Assert.Equal([4, 7, 32], g.InputShape);
        var ops = g.Nodes.Select(n => n.Op).ToList();
        Assert.DoesNotContain(ops, op => !GraphOps.All.Contains(op));
        Assert.Equal(6, ops.Count(o => o == GraphOps.Conv));
        Assert.Equal(2, ops.Count(o => o == GraphOps.Add));
        Assert.Single(ops, GraphOps.Linear);
        Assert.Equal([1], g.InferShapes()[g.OutputName]);
    }

    [Theory]
    [InlineData("tiny_mlp_op13.onnx")]
    [InlineData("tiny_mlp_nofold_op13.onnx")]
    [InlineData("tiny_mlp_op17.onnx")]
    public void Mlp_export_imports_with_scalar_output(string file)
    {
        var g = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, file));
        Assert.Equal([86], g.InputShape);
        Assert.Equal(4, g.Nodes.Count(n => n.Op == GraphOps.Linear));
        Assert.Empty(g.InferShapes()[g.OutputName]); // view(-1): one scalar per sample
    }

    static OnnxValueInfo Input(string name, params long[] dims) =>
        new(name, OnnxDataType.Float, dims.Select(d => new OnnxDim(d, null)).ToArray());

    static OnnxTensor T(string name, long[] dims, float[] data) => new(name, OnnxDataType.Float, dims, data, null, 0);

    static OnnxAttribute Ints(string name, params long[] v) => new(name, OnnxAttribute.IntsType, 0, 0, null, null, [], v, []);

    static OnnxAttribute F(string name, float v) => new(name, OnnxAttribute.FloatType, v, 0, null, null, [], [], []);

    [Fact]
    public void Batch_norm_after_conv_is_folded_into_its_weights()
    {
        float[] w = [1f, 2f, 3f, 4f], b = [0.5f, -0.5f];
        float[] gamma = [2f, 0.5f], beta = [0.1f, 0.2f], mean = [1f, -1f], variance = [4f, 0.25f];
        var graph = new OnnxGraph("g",
        [
            new("conv", "Conv", "", ["x", "w", "b"], ["c"], [Ints("kernel_shape", 1, 1)]),
            new("bn", "BatchNormalization", "", ["c", "gamma", "beta", "mean", "var"], ["y"], [F("epsilon", 0f)]),
        ],
        [T("w", [2, 2, 1, 1], w), T("b", [2], b), T("gamma", [2], gamma), T("beta", [2], beta), T("mean", [2], mean), T("var", [2], variance)],
        [Input("x", 1, 2, 3, 3)], [Input("y", 1, 2, 3, 3)]);
        var g = OnnxImporter.Import(new OnnxModel("bn.onnx", 8, "test", "", new Dictionary<string, long> { [""] = 13 }, graph));
        var conv = Assert.Single(g.Nodes);
        Assert.Equal("y", conv.Output);
        double s0 = 2 / Math.Sqrt(4), s1 = 0.5 / Math.Sqrt(0.25);
        Assert.Equal(new[] { 1 * s0, 2 * s0, 3 * s1, 4 * s1 }.Select(v => (float)v), g.Tensors[conv.Weights[0]].Data);
        Assert.Equal(new[] { (0.5 - 1) * s0 + 0.1, (-0.5 + 1) * s1 + 0.2 }.Select(v => (float)v), g.Tensors[conv.Weights[1]].Data);
    }

    [Fact]
    public void Sigmoid_after_gemm_imports_and_runs_with_its_input_gradient()
    {
        // y = σ(x·Wᵀ + b): an MLP head as torch.onnx.export writes it (Gemm with transB, then Sigmoid)
        float[] w = [0.5f, -1f, 2f, 0.25f, 1.5f, -0.5f], b = [0.1f, -0.2f];
        var graph = new OnnxGraph("g",
        [
            new("fc", "Gemm", "", ["x", "w", "b"], ["h"], [new("transB", OnnxAttribute.IntType, 0, 1, null, null, [], [], [])]),
            new("act", "Sigmoid", "", ["h"], ["y"], []),
        ],
        [T("w", [2, 3], w), T("b", [2], b)], [Input("x", 1, 3)], [Input("y", 1, 2)]);
        var g = OnnxImporter.Import(new OnnxModel("sig.onnx", 8, "test", "", new Dictionary<string, long> { [""] = 13 }, graph));
        Assert.Equal([GraphOps.Linear, GraphOps.Sigmoid], g.Nodes.Select(n => n.Op));

        using var backend = new Kiago.Kernels.Cpu.CpuBackend(threads: 1);
        using var executor = new GraphExecutor(g, backend);
        float[] x = [0.3f, -0.7f, 1.1f, 2f, 0.5f, -1f];
        double[] Reference(double[] v) =>
        [
            .. Enumerable.Range(0, 2).SelectMany(n => Enumerable.Range(0, 2).Select(o =>
                1 / (1 + Math.Exp(-(b[o] + Enumerable.Range(0, 3).Sum(i => (double)w[o * 3 + i] * v[n * 3 + i]))))))
        ];
        using var xb = backend.Allocate<float>(6);
        backend.Upload<float>(x, xb);
        using var yb = backend.Allocate<float>(4);
        using var dxb = backend.Allocate<float>(6);
        executor.ForwardBackward(2, xb, yb, dxb, 1f);
        var y = new float[4]; backend.Download<float>(yb, y);
        var dx = new float[6]; backend.Download<float>(dxb, dx);
        var xd = x.Select(v => (double)v).ToArray();
        var want = Reference(xd);
        for (int i = 0; i < 4; i++) Assert.Equal(want[i], y[i], 5);
        var fd = Kiago.Tests.Kernels.ReferenceOps.FiniteDifferenceGradient(Reference, xd, [1, 1, 1, 1]);
        for (int i = 0; i < 6; i++) Assert.Equal(fd[i], dx[i], 4);
    }

    [Fact]
    public void Unsupported_op_error_names_node_op_and_supported_list()
    {
        var graph = new OnnxGraph("g", [new("my_hardmax", "Hardmax", "", ["x"], ["y"], [])], [], [Input("x", 1, 4)], [Input("y", 1, 4)]);
        var e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(new OnnxModel("s.onnx", 8, "", "", new Dictionary<string, long>(), graph)));
        Assert.Contains("s.onnx", e.Message);
        Assert.Contains("my_hardmax", e.Message);
        Assert.Contains("'Hardmax'", e.Message);
        Assert.Contains("Supported ops: Conv, BatchNormalization", e.Message);
    }

    [Fact]
    public void Unsupported_attribute_is_named()
    {
        var graph = new OnnxGraph("g",
            [new("c", "Conv", "", ["x", "w"], ["y"], [new("auto_pad", OnnxAttribute.StringType, 0, 0, "SAME_UPPER", null, [], [], [])])],
            [T("w", [1, 1, 3, 3], new float[9])], [Input("x", 1, 1, 5, 5)], [Input("y", 1, 1, 5, 5)]);
        var e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(new OnnxModel("p.onnx", 8, "", "", new Dictionary<string, long>(), graph)));
        Assert.Contains("node c (op Conv): attribute auto_pad=SAME_UPPER is not supported", e.Message);
    }
}
