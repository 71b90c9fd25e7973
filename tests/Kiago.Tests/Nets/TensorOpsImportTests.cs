using Kiago.Nets.Graph;
using Kiago.Nets.Onnx;
using static Kiago.Tests.Nets.ConstantArithmeticImportTests;

namespace Kiago.Tests.Nets;

/// <summary>
/// The ops of attention models on per-sample tensors of any rank — Transpose, MatMul of two activations, broadcasting,
/// Softmax and reductions along any axis, Slice/Gather/Concat along any axis — and the element-token input, each
/// imported from a hand-written ONNX graph and run forward and input backward against a double reference and its
/// finite differences.
/// </summary>
public sealed class TensorOpsImportTests
{
    static OnnxAttribute Ints(string name, params long[] values) => new(name, OnnxAttribute.IntsType, 0, 0, null, null, [], values, []);
    static OnnxAttribute Int(string name, long value) => new(name, OnnxAttribute.IntType, 0, value, null, null, [], [], []);
    static OnnxTensor I(string name, long[] dims, long[] data) => new(name, OnnxDataType.Int64, dims, null, data, 0);
    static OnnxNode N(string op, string[] inputs, string output, params OnnxAttribute[] attrs) => new(output + "_node", op, "", inputs, [output], attrs);

    static readonly double[] X = [0.3, -0.7, 1.1, 2, 0.5, -1, -0.2, 0.9, 0.4, -1.3, 0.6, 0.15];

    [Fact]
    public void Transpose_then_the_product_of_two_activations_then_reductions_over_inner_axes()
    {
        // x [B,2,3] → x·xᵀ [B,2,2] → sum over axis 1 (keepdims 0) [B,2] → max over the last axis [B,1]
        var g = Import(
        [
            N("Transpose", ["x"], "xt", Ints("perm", 0, 2, 1)),
            N("MatMul", ["x", "xt"], "gram"),
            N("ReduceSum", ["gram", "axes"], "colsum", Int("keepdims", 0)),
            N("ReduceMax", ["colsum"], "y", Ints("axes", -1)),
        ], [I("axes", [1], [1])], Value("x", 2, 2, 3), Value("y", 2, 1));
        Assert.Contains(g.Nodes, n => n.Op == GraphOps.MatMul);
        Check(g, 2, X, x => [.. Enumerable.Range(0, 2).Select(b =>
        {
            double Gram(int i, int j) => Enumerable.Range(0, 3).Sum(k => x[b * 6 + i * 3 + k] * x[b * 6 + j * 3 + k]);
            return Enumerable.Range(0, 2).Max(j => Gram(0, j) + Gram(1, j));
        })]);
    }

    [Fact]
    public void Broadcasting_softmax_along_an_inner_axis_and_slices_gathers_and_concat_along_any_axis()
    {
        // x [B,2,3]; n = x / Σ_last x² (broadcast [B,2,1]); s = softmax over axis 1; [s[:,1:2,:], s[:,0:1,:]] along axis 2 → [B,1,6];
        // gather columns 5 and 0 of axis 2 → [B,1,2] → flatten [B,2]
        var g = Import(
        [
            N("Mul", ["x", "x"], "sq"),
            N("ReduceSum", ["sq", "axes_last"], "norm", Int("keepdims", 1)),
            N("Div", ["x", "norm"], "n"),
            N("Softmax", ["n"], "s", Int("axis", 1)),
            N("Slice", ["s", "one", "two", "ax1"], "row1"),
            N("Slice", ["s", "zero", "one", "ax1"], "row0"),
            N("Concat", ["row1", "row0"], "cat", Int("axis", 2)),
            N("Gather", ["cat", "pick"], "picked", Int("axis", 2)),
            N("Flatten", ["picked"], "y"),
        ], [I("axes_last", [1], [-1]), I("zero", [1], [0]), I("one", [1], [1]), I("two", [1], [2]), I("ax1", [1], [1]), I("pick", [2], [5, 0])],
            Value("x", 2, 2, 3), Value("y", 2, 2));
        Check(g, 2, X, x =>
        {
            var y = new List<double>();
            for (int b = 0; b < 2; b++)
            {
                var n = new double[2, 3];
                for (int i = 0; i < 2; i++)
                {
                    double sum = Enumerable.Range(0, 3).Sum(k => x[b * 6 + i * 3 + k] * x[b * 6 + i * 3 + k]);
                    for (int k = 0; k < 3; k++) n[i, k] = x[b * 6 + i * 3 + k] / sum;
                }
                double S(int i, int k) => Math.Exp(n[i, k]) / (Math.Exp(n[0, k]) + Math.Exp(n[1, k]));
                double[] cat = [S(1, 0), S(1, 1), S(1, 2), S(0, 0), S(0, 1), S(0, 2)];
                y.Add(cat[5]);
                y.Add(cat[0]);
            }
            return [.. y];
        });
    }

    [Fact]
    public void Element_tokens_become_one_input_and_an_embedding_lookup_weighs_nothing_back_to_the_indices()
    {
        // indices (int64 [B,3]) pick rows of a [5,2] table, each weighted by its fraction, summed over the tokens → [B,2]
        float[] table = [0.1f, -0.4f, 1.5f, 0.2f, -0.8f, 0.9f, 0.3f, 0.35f, 2.0f, -1.1f];
        var model = new OnnxModel("tokens.onnx", 8, "test", "", new Dictionary<string, long> { [""] = 13 }, new OnnxGraph("g",
        [
            N("Gather", ["table", "indices"], "rows"),
            N("Unsqueeze", ["fractions", "last"], "w"),
            N("Mul", ["rows", "w"], "weighted"),
            N("ReduceSum", ["weighted", "tokens_axis"], "y", Int("keepdims", 0)),
        ], [T("table", [5, 2], table), I("last", [1], [-1]), I("tokens_axis", [1], [1])],
        [new OnnxValueInfo("indices", OnnxDataType.Int64, [new(null, "batch"), new(3, null)]), Value("fractions", 2, 3)], [Value("y", 2, 2)]));
        var g = OnnxImporter.Import(model);
        Assert.Equal(OnnxImporter.TokensInputName, g.InputName);
        Assert.Equal([2, 3], g.InputShape);
        Assert.Contains(g.Nodes, n => n.Op == GraphOps.Embedding);
        // per sample: the 3 indices, then the 3 fractions
        double[] x = [1, 4, 0, 0.5, 0.3, 0.2, 3, 3, 2, 0.6, 0.4, 0];
        Check(g, 2, x, v => [.. Enumerable.Range(0, 2).SelectMany(b => Enumerable.Range(0, 2).Select(d =>
            Enumerable.Range(0, 3).Sum(t => table[(int)Math.Round(v[b * 6 + t]) * 2 + d] * v[b * 6 + 3 + t])))]);
    }

    [Fact]
    public void Token_inputs_that_do_not_fit_are_refused_with_the_inputs_named()
    {
        OnnxModel Model(params OnnxValueInfo[] inputs) => new("tok.onnx", 8, "test", "", new Dictionary<string, long> { [""] = 13 }, new OnnxGraph("g",
            [N("Gather", ["table", "indices"], "rows"), N("ReduceSum", ["rows", "ax"], "y", Int("keepdims", 0))],
            [T("table", [5, 2], new float[10]), I("ax", [1], [1])], inputs, [Value("y", 2, 2)]));
        OnnxValueInfo Indices(params long?[] dims) => new("indices", OnnxDataType.Int64, [.. dims.Select(d => new OnnxDim(d, d is null ? "batch" : null))]);
        var e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(Model(Indices(null, 3), Value("fractions", 2, 4))));
        Assert.Contains("inputs 'indices' and 'fractions' have 3 and 4 tokens; they must agree", e.Message);
        e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(Model(Indices(null, 3, 2), Value("fractions", 2, 3))));
        Assert.Contains("input 'indices' has shape [batch,3,2]; an element-token model takes indices and fractions of shape [batch, T]", e.Message);
        e = Assert.Throws<ModelImportException>(() => OnnxImporter.Import(Model(Value("indices", 2, 3), Value("fractions", 2, 3))));
        Assert.Contains("graph has 2 runtime inputs (indices (Float), fractions (Float))", e.Message);
        Assert.Contains("two for element tokens: integer indices and float fractions", e.Message);
    }

    [Fact]
    public void What_cannot_run_is_refused_with_the_node_and_the_reason()
    {
        var e = Assert.Throws<ModelImportException>(() => Import([N("Transpose", ["x"], "y", Ints("perm", 1, 0, 2))], [], Value("x", 2, 2, 3), Value("y", 2, 2, 3)));
        Assert.Contains("keeps the batch axis 0 first", e.Message);
        e = Assert.Throws<ModelImportException>(() => Import([N("ReduceSum", ["x"], "y", Ints("axes", 0))], [], Value("x", 2, 3), Value("y", 3)));
        Assert.Contains("the batch axis (0) cannot be used", e.Message);
        e = Assert.Throws<ModelImportException>(() => Import([N("Transpose", ["x"], "xt", Ints("perm", 0, 2, 1)), N("Add", ["x", "xt"], "y")], [],
            Value("x", 2, 2, 3), Value("y", 2, 2, 3)));
        Assert.Contains("do not broadcast", e.Message);
    }
}
