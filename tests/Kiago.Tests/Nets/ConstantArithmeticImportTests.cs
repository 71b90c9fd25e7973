using Kiago.Kernels.Cpu;
using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using Kiago.Tests.Kernels;

namespace Kiago.Tests.Nets;

/// <summary>
/// Add/Sub/Mul/Div with a constant operand (scalar or per channel) — the output head y·std + mean, input
/// standardisation (x − mean)/std, per-channel scales on maps — import as one per-channel affine map: folded into the
/// Conv/Gemm before it, else a diagonal Linear or a depthwise 1×1 Conv. Every case runs forward and input backward
/// against a double reference and finite differences.
/// </summary>
public sealed class ConstantArithmeticImportTests
{
    internal static OnnxValueInfo Value(string name, params long[] dims) => new(name, OnnxDataType.Float, [.. dims.Select(d => new OnnxDim(d, null))]);
    internal static OnnxTensor T(string name, long[] dims, float[] data) => new(name, OnnxDataType.Float, dims, data, null, 0);
    internal static OnnxNode Node(string name, string op, params string[] inputs) => new(name, op, "", inputs, [name + ".y"], []);
    static OnnxAttribute TransB => new("transB", OnnxAttribute.IntType, 0, 1, null, null, [], [], []);

    internal static ModelGraph Import(OnnxNode[] nodes, OnnxTensor[] tensors, OnnxValueInfo input, OnnxValueInfo output) =>
        OnnxImporter.Import(new OnnxModel("arith.onnx", 8, "test", "", new Dictionary<string, long> { [""] = 13 },
            new OnnxGraph("g", nodes, tensors, [input], [output])));

    /// <summary>Forward and input gradient of <paramref name="g"/> on <paramref name="x"/> against <paramref name="reference"/>.</summary>
    internal static void Check(ModelGraph g, int batch, double[] x, Func<double[], double[]> reference)
    {
        using var backend = new CpuBackend(threads: 1);
        using var executor = new GraphExecutor(g, backend);
        using var xb = backend.Allocate<float>(x.Length);
        backend.Upload<float>([.. x.Select(v => (float)v)], xb);
        int outputs = batch * executor.OutputSize;
        using var yb = backend.Allocate<float>(outputs);
        using var dxb = backend.Allocate<float>(x.Length);
        executor.ForwardBackward(batch, xb, yb, dxb, 1f);
        var y = new float[outputs]; backend.Download<float>(yb, y);
        var dx = new float[x.Length]; backend.Download<float>(dxb, dx);
        var want = reference(x);
        Assert.Equal(want.Length, outputs);
        for (int i = 0; i < outputs; i++) Assert.Equal(want[i], y[i], 4);
        var fd = ReferenceOps.FiniteDifferenceGradient(reference, x, [.. Enumerable.Repeat(1.0, outputs)]);
        for (int i = 0; i < x.Length; i++) Assert.Equal(fd[i], dx[i], 3);
    }

    [Fact]
    public void A_gemm_head_times_std_plus_mean_folds_into_one_linear()
    {
        float[] w = [0.5f, -1f, 2f], b = [0.25f];
        var g = Import(
            [new("fc", "Gemm", "", ["x", "w", "b"], ["h"], [TransB]), new("scale", "Mul", "", ["h", "std"], ["s"], []), new("shift", "Add", "", ["mean", "s"], ["y"], [])],
            [T("w", [1, 3], w), T("b", [1], b), T("std", [], [12.5f]), T("mean", [1], [40f])], Value("x", 1, 3), Value("y", 1, 1));
        var node = Assert.Single(g.Nodes);
        Assert.Equal(GraphOps.Linear, node.Op);
        Check(g, 2, [0.3, -0.7, 1.1, 2, 0.5, -1], x => [.. Enumerable.Range(0, 2).Select(n =>
            (b[0] + Enumerable.Range(0, 3).Sum(i => (double)w[i] * x[n * 3 + i])) * 12.5 + 40)]);
    }

    [Fact]
    public void Input_standardisation_sub_then_div_runs_as_one_diagonal_linear()
    {
        float[] mean = [0.1f, -0.2f, 0.3f], std = [2f, 0.5f, 4f];
        var g = Import([Node("center", "Sub", "x", "mean"), Node("scale", "Div", "center.y", "std")],
            [T("mean", [1, 3], mean), T("std", [3], std)], Value("x", 1, 3), Value("scale.y", 1, 3));
        Assert.Equal([GraphOps.Linear], g.Nodes.Select(n => n.Op)); // the Div folds into the Sub's diagonal Linear
        Check(g, 2, [0.3, -0.7, 1.1, 2, 0.5, -1], x => [.. x.Select((v, i) => (v - mean[i % 3]) / std[i % 3])]);
    }

    [Fact]
    public void A_constant_minus_an_activation_and_a_per_channel_scale_on_a_map_after_relu()
    {
        float[] k = [1.5f, -0.5f];
        var g = Import([Node("act", "Relu", "x"), Node("mul", "Mul", "k", "act.y"), Node("flip", "Sub", "one", "mul.y")],
            [T("k", [1, 2, 1, 1], k), T("one", [], [1f])], Value("x", 1, 2, 2, 2), Value("flip.y", 1, 2, 2, 2));
        Assert.Equal([GraphOps.Relu, GraphOps.Conv], g.Nodes.Select(n => n.Op)); // the Sub folds into the Mul's depthwise Conv
        // inputs away from 0 so ReLU's kink does not meet the finite differences
        double[] x = [0.3, -0.7, 1.1, 2, 0.5, -1, 0.8, -0.4, 0.6, -0.9, 1.2, 0.2, -0.3, 0.45, -1.5, 0.7];
        Check(g, 2, x, v => [.. v.Select((a, i) => 1 - k[i / 4 % 2] * Math.Max(0, a))]);
    }

    [Theory]
    [InlineData("Div", false, "a constant divided by an activation is not supported")]
    public void Unsupported_forms_are_named(string op, bool twoActivations, string message)
    {
        OnnxNode node = twoActivations ? Node("n", op, "x", "x") : Node("n", op, "c", "x");
        var e = Assert.Throws<ModelImportException>(() => Import([node], [T("c", [], [2f])], Value("x", 1, 3), Value("n.y", 1, 3)));
        Assert.Contains("arith.onnx", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Mul_of_two_activations_is_an_element_wise_product_with_both_gradients()
    {
        // y = x ⊙ x: dy/dx = 2x (the leaf reaches the product through both inputs)
        var g = Import([Node("n", "Mul", "x", "x")], [], Value("x", 1, 3), Value("n.y", 1, 3));
        Assert.Contains(g.Nodes, n => n.Op == GraphOps.Mul);
        double[] x = [0.5, -1.5, 2, 1, -0.25, 3];
        Check(g, 2, x, v => [.. v.Select(a => a * a)]);
    }

    [Fact]
    public void Dividing_by_the_row_sum_and_subtracting_the_row_max_broadcast_a_one_value_vector()
    {
        // renormalised fractions x / x.sum(-1, keepdim) minus x − x.max(-1, keepdim): Div and Sub of a vector and a one-value vector
        var axes = new OnnxTensor("axes", OnnxDataType.Int64, [1], null, [-1], 0);
        var g = Import(
            [Node("sum", "ReduceSum", "x", "axes"), Node("div", "Div", "x", "sum.y"), Node("max", "ReduceMax", "x", "axes"),
             Node("sub", "Sub", "x", "max.y"), Node("out", "Sub", "div.y", "sub.y")],
            [axes], Value("x", 1, 4), Value("out.y", 1, 4));
        Assert.Contains(g.Nodes, n => n.Op == GraphOps.Gather);
        double[] x = [0.3, 0.7, 1.1, 2, 0.5, 1.4, 0.8, 0.4];
        Check(g, 2, x, v => [.. Enumerable.Range(0, 8).Select(i =>
        {
            var row = v.Skip(i / 4 * 4).Take(4).ToArray();
            return v[i] / row.Sum() - (v[i] - row.Max());
        })]);
    }

    [Fact]
    public void Concat_of_activations_with_their_sin_and_cos_features_runs_with_the_gradient_of_every_part()
    {
        // y = w · [x, sin x, cos x] (a sinusoidal feature expansion, as time embeddings are built)
        var axis = new OnnxAttribute("axis", OnnxAttribute.IntType, 0, 1, null, null, [], [], []);
        float[] w = [0.5f, -1f, 2f, 0.3f, 0.7f, -0.4f, 1.1f, -0.2f, 0.9f];
        var g = Import(
            [Node("s", "Sin", "x"), Node("c", "Cos", "x"), new("cat", "Concat", "", ["x", "s.y", "c.y"], ["cat.y"], [axis]),
             new("fc", "Gemm", "", ["cat.y", "w"], ["y"], [TransB])],
            [T("w", [1, 9], w)], Value("x", 1, 3), Value("y", 1, 1));
        Assert.Equal(3, g.Nodes.Count(n => n.Op == GraphOps.Scatter));
        double[] x = [0.3, -0.7, 1.1, 2, 0.5, -1];
        Check(g, 2, x, v => [.. Enumerable.Range(0, 2).Select(n =>
        {
            var r = v.Skip(n * 3).Take(3).ToArray();
            double[] f = [.. r, .. r.Select(Math.Sin), .. r.Select(Math.Cos)];
            return Enumerable.Range(0, 9).Sum(i => w[i] * f[i]);
        })]);
    }

    [Fact]
    public void A_constant_that_is_not_per_channel_and_division_by_zero_are_refused()
    {
        var e = Assert.Throws<ModelImportException>(() => Import([Node("n", "Mul", "x", "c")], [T("c", [2, 2], [1f, 2f, 3f, 4f])], Value("x", 1, 2, 2), Value("n.y", 1, 2, 2)));
        Assert.Contains("only a scalar, one value per channel (the first per-sample dimension) or one per feature of the last axis", e.Message);
        e = Assert.Throws<ModelImportException>(() => Import([Node("n", "Div", "x", "c")], [T("c", [2], [1f, 0f])], Value("x", 1, 2), Value("n.y", 1, 2)));
        Assert.Contains("division by a constant that is zero", e.Message);
    }
}
