using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets.Graph;

namespace Kiago.Tests.Nets;

/// <summary>
/// GraphExecutor's forward for inputs with columns shared by the batch: the part of the graph that reads only them
/// runs on one row and meets the per-sample part through AddRow (Add) or RepeatRow (Mul, or a shared output), giving
/// every row the result it gets alone.
/// </summary>
public class SharedColumnsTests
{
    const int Width = 5, Shared = 4;

    /// <summary>
    /// input [x0..x3, t]: h = Linear(x); e = Linear(t); p = e·σ(e) (shared SiLU); a = h + p; m = a ⊙ p;
    /// c = [p, m] (Concat as two Scatters and an Add); out = Linear(c) with 2 outputs. With <paramref name="sharedOutput"/>
    /// the output is Linear(p) instead, a value of the shared part alone.
    /// </summary>
    static ModelGraph Graph(bool sharedOutput)
    {
        var rng = new Random(3);
        float[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        var none = new Dictionary<string, int[]>();
        Dictionary<string, int[]> Indices(params int[] i) => new() { ["indices"] = i };
        var tensors = new Dictionary<string, WeightTensor>
        {
            ["wh"] = new("wh", [3, 4], R(12)), ["bh"] = new("bh", [3], R(3)),
            ["we"] = new("we", [3, 1], R(3)), ["be"] = new("be", [3], R(3)),
            ["wo"] = new("wo", [2, 6], R(12)), ["bo"] = new("bo", [2], R(2)),
            ["wp"] = new("wp", [2, 3], R(6)),
        };
        var nodes = new List<GraphNode>
        {
            new("x", GraphOps.Gather, ["input"], "x", [], Indices(0, 1, 2, 3)),
            new("t", GraphOps.Gather, ["input"], "t", [], Indices(Shared)),
            new("h", GraphOps.Linear, ["x"], "h", ["wh", "bh"], none),
            new("e", GraphOps.Linear, ["t"], "e", ["we", "be"], none),
            new("s", GraphOps.Sigmoid, ["e"], "s", [], none),
            new("p", GraphOps.Mul, ["e", "s"], "p", [], none),
            new("a", GraphOps.Add, ["p", "h"], "a", [], none),
            new("m", GraphOps.Mul, ["a", "p"], "m", [], none),
            new("c0", GraphOps.Scatter, ["p"], "c0", [], new Dictionary<string, int[]> { ["indices"] = [0, 1, 2], ["width"] = [6] }),
            new("c1", GraphOps.Scatter, ["m"], "c1", [], new Dictionary<string, int[]> { ["indices"] = [3, 4, 5], ["width"] = [6] }),
            new("c", GraphOps.Add, ["c0", "c1"], "c", [], none),
            sharedOutput ? new("out", GraphOps.Linear, ["p"], "out", ["wp"], none) : new("out", GraphOps.Linear, ["c"], "out", ["wo", "bo"], none),
        };
        return new ModelGraph("input", [Width], "out", nodes, tensors);
    }

    public static TheoryData<string, bool> Cases => new() { { "cpu", false }, { "cpu", true }, { "ilgpu-cpu", false }, { "ilgpu-cpu", true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rows_sharing_a_column_get_the_values_they_get_alone(string backendName, bool sharedOutput)
    {
        using IBackend backend = backendName == "cpu" ? new CpuBackend(threads: 2) : IlgpuBackend.CreateCpu();
        var graph = Graph(sharedOutput);
        using var executor = new GraphExecutor(graph, backend);
        var shared = executor.SharedValues([Shared]);
        Assert.Equal(sharedOutput ? ["c0", "e", "out", "p", "s", "t"] : ["c0", "e", "p", "s", "t"], shared.Order(StringComparer.Ordinal));
        const int batch = 7;
        var rng = new Random(11);
        var input = new float[batch * Width];
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < Shared; j++) input[b * Width + j] = (float)(rng.NextDouble() * 4 - 2);
            input[b * Width + Shared] = 0.75f;
        }
        using var x = backend.Allocate<float>(input.Length);
        backend.Upload<float>(input, x);
        using var perRow = backend.Allocate<float>(batch * 2);
        using var once = backend.Allocate<float>(batch * 2);
        for (int repeat = 0; repeat < 2; repeat++)   // the second call runs on the tape's recycled buffers
        {
            executor.Forward(batch, x, perRow);
            executor.Forward(batch, x, once, [Shared]);
            var expected = new float[batch * 2];
            var got = new float[batch * 2];
            backend.Download(perRow, expected);
            backend.Download(once, got);
            for (int k = 0; k < got.Length; k++)
                Assert.True(Math.Abs(got[k] - expected[k]) <= 1e-6f * (1 + Math.Abs(expected[k])), $"out[{k}] = {got[k]}, per row {expected[k]}");
            if (sharedOutput) Assert.Equal(got[0], got[2]);
        }
    }

    [Fact]
    public void Shared_columns_outside_the_input_are_refused()
    {
        using var backend = new CpuBackend(threads: 1);
        using var executor = new GraphExecutor(Graph(false), backend);
        Assert.Throws<ArgumentOutOfRangeException>(() => executor.SharedValues([Width]));
        Assert.Empty(executor.SharedValues([0]));   // x reads columns 0..3: one of them is not enough
    }
}
