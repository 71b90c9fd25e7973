using Kiago.Autodiff;
using Kiago.Kernels;

namespace Kiago.Nets.Uncertainty;

/// <summary>
/// μ and σ from the K+1 model outputs, recorded on the tape with existing ops only (so every backend runs it and its
/// gradient comes with it): the outputs are stacked into M [N, K+1] (ScatterColumns into column j, Add), then
/// μ = Linear(w) · M; the deviations d_j = m_j − μ = (e_j − w)·M are taken with both signs by one Linear with a fused
/// ReLU (relu(d) + relu(−d) = |d|; the same Linear gives ±(μ − LevelCenter) for the level term), and
/// σ = SigmaScale · (mean_j |d_j| + SigmaFloor + LevelWeight · |μ − LevelCenter|) is one more Linear.
/// The mean absolute deviation rather than the standard deviation: it needs no square root op, is piecewise linear
/// like the networks, and split-conformal calibration makes either a calibrated interval.
/// </summary>
public sealed class EnsembleHead : IDisposable
{
    readonly DeviceBuffer<int>[] columns;
    readonly ILinear mean, deviations, spread;

    public EnsembleHead(IBackend backend, UncertaintyHead head)
    {
        Head = head;
        int k = head.Outputs;
        columns = new DeviceBuffer<int>[k];
        for (int j = 0; j < k; j++)
        {
            columns[j] = backend.Allocate<int>(1);
            backend.Upload<int>([j], columns[j]);
        }
        mean = backend.PrepareLinear(new LinearSpec(k, 1), head.MeanWeights, []);
        // rows 0..k-1: d_j = (e_j − w)·m; rows k..2k-1: −d_j; with a level term two more rows: ±(w·m − c)
        bool level = head.LevelWeight > 0;
        int rows = 2 * k + (level ? 2 : 0);
        var d = new float[rows * k];
        var bias = new float[rows];
        for (int j = 0; j < k; j++)
            for (int i = 0; i < k; i++)
            {
                float value = (i == j ? 1f : 0f) - head.MeanWeights[i];
                d[j * k + i] = value;
                d[(k + j) * k + i] = -value;
            }
        if (level)
        {
            for (int i = 0; i < k; i++)
            {
                d[2 * k * k + i] = head.MeanWeights[i];
                d[(2 * k + 1) * k + i] = -head.MeanWeights[i];
            }
            bias[2 * k] = -head.LevelCenter;
            bias[2 * k + 1] = head.LevelCenter;
        }
        deviations = backend.PrepareLinear(new LinearSpec(k, rows), d, level ? bias : []);
        var sum = new float[rows];
        for (int r = 0; r < 2 * k; r++) sum[r] = head.SigmaScale / k;
        if (level) sum[2 * k] = sum[2 * k + 1] = head.SigmaScale * head.LevelWeight;
        spread = backend.PrepareLinear(new LinearSpec(rows, 1), sum, [head.SigmaScale * head.SigmaFloor]);
    }

    public UncertaintyHead Head { get; }

    /// <summary>outputs: K+1 tensors [N] (flagship first) → μ [N], σ [N], both kept until the tape's Reset.</summary>
    public (Tensor Mean, Tensor Sigma) Run(Tape tape, IReadOnlyList<Tensor> outputs)
    {
        if (outputs.Count != columns.Length)
            throw new ArgumentException($"the head combines {columns.Length} outputs, got {outputs.Count}", nameof(outputs));
        int n = outputs[0].Batch;
        Tensor? stacked = null;
        for (int j = 0; j < outputs.Count; j++)
        {
            var column = tape.ScatterColumns(tape.Reshape(outputs[j], n, 1), columns[j], columns.Length);
            stacked = stacked is null ? column : tape.Add(stacked, column);
        }
        // Kept before the reshape: the reshape is their last reader on the tape, and the caller reads them afterwards.
        var mu = tape.Reshape(tape.Keep(tape.Linear(stacked!, mean)), n);
        var sigma = tape.Reshape(tape.Keep(tape.Linear(tape.Linear(stacked!, deviations, fuseRelu: true), spread)), n);
        return (mu, sigma);
    }

    public void Dispose()
    {
        foreach (var c in columns) c.Dispose();
        mean.Dispose();
        deviations.Dispose();
        spread.Dispose();
    }
}
