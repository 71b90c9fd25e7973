using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets.Graph;
using Kiago.Tests.Kernels;

namespace Kiago.Tests.Nets;

/// <summary>
/// The executor runs x * Sigmoid(x) as one SiLU pass when the Sigmoid has no other reader (either operand order), and
/// leaves a Sigmoid that is read twice alone: both give the double reference's values and input gradient.
/// </summary>
public class SiluFusionTests
{
    const int In = 6, Hidden = 5;
    static readonly float[] W1 = [.. Enumerable.Range(0, Hidden * In).Select(i => (float)Math.Sin(1.3 * i + 0.2))];
    static readonly float[] B1 = [0.1f, -0.2f, 0.3f, 0f, -0.1f];
    static readonly float[] W2 = [0.7f, -1.1f, 0.4f, 1.3f, -0.6f];

    /// <summary>h = W1·x + b1; y = σ(h) ⊙ h (fusable); z = σ(y) (two readers); out = W2·(y ⊙ z + z).</summary>
    static ModelGraph Graph()
    {
        var none = new Dictionary<string, int[]>();
        var tensors = new Dictionary<string, WeightTensor>
        {
            ["w1"] = new("w1", [Hidden, In], W1), ["b1"] = new("b1", [Hidden], B1), ["w2"] = new("w2", [1, Hidden], W2),
        };
        var nodes = new List<GraphNode>
        {
            new("h", GraphOps.Linear, ["input"], "h", ["w1", "b1"], none),
            new("s", GraphOps.Sigmoid, ["h"], "s", [], none),
            new("y", GraphOps.Mul, ["s", "h"], "y", [], none),
            new("z", GraphOps.Sigmoid, ["y"], "z", [], none),
            new("w", GraphOps.Mul, ["y", "z"], "w", [], none),
            new("v", GraphOps.Add, ["w", "z"], "v", [], none),
            new("out", GraphOps.Linear, ["v"], "out", ["w2"], none),
        };
        return new ModelGraph("input", [In], "out", nodes, tensors);
    }

    static double[] Reference(double[] x, int batch)
    {
        static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        var y = new double[batch];
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < Hidden; o++)
            {
                double h = B1[o];
                for (int i = 0; i < In; i++) h += W1[o * In + i] * x[b * In + i];
                double silu = h * Sigmoid(h), z = Sigmoid(silu);
                y[b] += W2[o] * (silu * z + z);
            }
        return y;
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void Fused_silu_gives_the_reference_values_and_input_gradient(string backendName)
    {
        using IBackend backend = backendName == "cpu" ? new CpuBackend(threads: 2) : IlgpuBackend.CreateCpu();
        using var executor = new GraphExecutor(Graph(), backend);
        const int batch = 4;
        var x = Enumerable.Range(0, batch * In).Select(i => (double)(float)(1.5 * Math.Cos(0.7 * i))).ToArray();
        var (y, dx) = HostRuns.ForwardBackward(backend, [.. x.Select(v => (float)v)], batch, executor.ForwardBackward);
        var expected = Reference(x, batch);
        for (int b = 0; b < batch; b++) Assert.True(Math.Abs(expected[b] - y[b]) < 1e-5, $"out[{b}] = {y[b]}, reference {expected[b]}");
        var fd = ReferenceOps.FiniteDifferenceGradient(v => Reference(v, batch), x, Enumerable.Repeat(1.0, batch).ToArray());
        double scale = fd.Max(Math.Abs);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(fd[i] - dx[i]) <= 1e-4 * scale, $"d out/dx[{i}] = {dx[i]}, finite differences {fd[i]}");
    }
}
