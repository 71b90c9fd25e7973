using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets.Graph;
using Kiago.Tests.Kernels;

namespace Kiago.Tests.Nets;

/// <summary>
/// The executor runs exact GELU as the importer writes it on tokens (Affine α, Erf, Affine +1, Mul by x, Affine ½) as one
/// Unary Gelu pass when every intermediate has one reader: on the CPU the same bits as the five ops, the double
/// reference's values and input gradient on both backends, and a chain with a second reader is left alone.
/// </summary>
public class GeluFusionTests
{
    const int Tokens = 3, In = 4, Hidden = 5;
    const float Alpha = 0.70710677f;
    static readonly float[] W1 = [.. Enumerable.Range(0, Hidden * In).Select(i => (float)Math.Sin(1.3 * i + 0.2))];
    static readonly float[] W2 = [.. Enumerable.Range(0, Tokens * Hidden).Select(i => (float)Math.Cos(0.9 * i))];

    static WeightTensor Params(string name, float scale, float shift) => new(name, [3], [scale, shift, 0f]);

    /// <summary>h = W1·x over the last axis of (Tokens, In); y = GELU(h); out = Σ W2 ⊙ y (+ erf(d) read again when <paramref name="extraReader"/>).</summary>
    static ModelGraph Graph(bool extraReader)
    {
        var none = new Dictionary<string, int[]>();
        Dictionary<string, int[]> Kind(UnaryKind k) => new() { ["kind"] = [(int)k] };
        var tensors = new Dictionary<string, WeightTensor>
        {
            ["w1"] = new("w1", [Hidden, In], W1), ["w2"] = new("w2", [1, Tokens * Hidden], W2),
            ["pd"] = Params("pd", Alpha, 0f), ["pe"] = Params("pe", 0f, 0f), ["pf"] = Params("pf", 1f, 1f), ["ph"] = Params("ph", 0.5f, 0f),
        };
        var nodes = new List<GraphNode>
        {
            new("h", GraphOps.Linear, ["input"], "h", ["w1"], none),
            new("d", GraphOps.Unary, ["h"], "d", ["pd"], Kind(UnaryKind.Affine)),
            new("e", GraphOps.Unary, ["d"], "e", ["pe"], Kind(UnaryKind.Erf)),
            new("f", GraphOps.Unary, ["e"], "f", ["pf"], Kind(UnaryKind.Affine)),
            new("g", GraphOps.Mul, ["h", "f"], "g", [], none),
            new("y", GraphOps.Unary, ["g"], "y", ["ph"], Kind(UnaryKind.Affine)),
        };
        string last = "y";
        if (extraReader)
        {
            nodes.Add(new("again", GraphOps.Add, ["y", "e"], "again", [], none));
            last = "again";
        }
        nodes.Add(new("flat", GraphOps.Reshape, [last], "flat", [], new Dictionary<string, int[]> { ["shape"] = [Tokens * Hidden] }));
        nodes.Add(new("out", GraphOps.Linear, ["flat"], "out", ["w2"], none));
        return new ModelGraph("input", [Tokens, In], "out", nodes, tensors);
    }

    static double[] Reference(double[] x, int batch, bool extraReader)
    {
        var y = new double[batch];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < Tokens; t++)
                for (int o = 0; o < Hidden; o++)
                {
                    double h = 0;
                    for (int i = 0; i < In; i++) h += W1[o * In + i] * x[(b * Tokens + t) * In + i];
                    double erf = ReferenceOps.Erf(Alpha * h), v = 0.5 * h * (1 + erf) + (extraReader ? erf : 0);
                    y[b] += W2[t * Hidden + o] * v;
                }
        return y;
    }

    static (float[] Y, float[] Grad) Run(IBackend backend, ModelGraph graph, double[] x, int batch, int fusedAway)
    {
        using var executor = new GraphExecutor(graph, backend);
        Assert.Equal(fusedAway, executor.FusedAwayNodes);
        return HostRuns.ForwardBackward(backend, [.. x.Select(v => (float)v)], batch, executor.ForwardBackward);
    }

    [Theory]
    [InlineData("cpu", false)]
    [InlineData("cpu", true)]
    [InlineData("ilgpu-cpu", false)]
    public void Gelu_gives_the_reference_values_and_input_gradient(string backendName, bool extraReader)
    {
        using IBackend backend = backendName == "cpu" ? new CpuBackend(threads: 2) : IlgpuBackend.CreateCpu();
        const int batch = 4;
        var x = Enumerable.Range(0, batch * Tokens * In).Select(i => (double)(float)(1.5 * Math.Cos(0.7 * i))).ToArray();
        var (y, dx) = Run(backend, Graph(extraReader), x, batch, fusedAway: extraReader ? 0 : 4);
        var expected = Reference(x, batch, extraReader);
        for (int b = 0; b < batch; b++) Assert.True(Math.Abs(expected[b] - y[b]) < 1e-5, $"out[{b}] = {y[b]}, reference {expected[b]}");
        var fd = ReferenceOps.FiniteDifferenceGradient(v => Reference(v, batch, extraReader), x, Enumerable.Repeat(1.0, batch).ToArray());
        double scale = fd.Max(Math.Abs);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(fd[i] - dx[i]) <= 1e-4 * scale, $"d out/dx[{i}] = {dx[i]}, finite differences {fd[i]}");
    }

    [Fact]
    public void On_the_cpu_the_fused_pass_has_the_bits_of_the_five_ops()
    {
        // the five ops run one by one on the backend, against the executor's one pass (SIMD lanes and the scalar tail)
        using var backend = new CpuBackend(threads: 2);
        const int count = 8 * 37 + 5;
        var x = Enumerable.Range(0, count).Select(i => (float)(4 * Math.Sin(0.37 * i))).ToArray();
        using var xb = backend.Allocate<float>(count);
        backend.Upload<float>(x, xb);
        using var d = backend.Allocate<float>(count);
        using var e = backend.Allocate<float>(count);
        using var f = backend.Allocate<float>(count);
        using var g = backend.Allocate<float>(count);
        using var h = backend.Allocate<float>(count);
        using var fused = backend.Allocate<float>(count);
        backend.Unary(UnarySpec.Affine(Alpha, 0f), xb, d, count);
        backend.Unary(new UnarySpec(UnaryKind.Erf), d, e, count);
        backend.Unary(UnarySpec.Affine(1f, 1f), e, f, count);
        backend.Multiply(xb, f, g, count);
        backend.Unary(UnarySpec.Affine(0.5f, 0f), g, h, count);
        backend.Unary(new UnarySpec(UnaryKind.Gelu, Alpha), xb, fused, count);
        var want = new float[count];
        var got = new float[count];
        backend.Download(h, want);
        backend.Download(fused, got);
        Assert.Equal(want, got);
    }
}
