using Kiago.Chemistry;
using Kiago.Nets;

namespace Kiago.Design.Experiments;

/// <summary>Runs a composition model over a list of compositions (normalised to atom fractions), in batches.</summary>
public static class ModelPredictions
{
    public static double[] Predict(ICompositionModel model, IReadOnlyList<Composition> compositions, int batchSize = 512) =>
        Run(model, compositions, batchSize, sigma: false).Mean;

    /// <summary>μ and σ of an uncertain model (σ NaN where it has no uncertainty data), in batches.</summary>
    public static (double[] Mean, double[] Sigma) PredictWithSigma(IUncertainCompositionModel model, IReadOnlyList<Composition> compositions, int batchSize = 512) =>
        Run(model, compositions, batchSize, sigma: true);

    static (double[] Mean, double[] Sigma) Run(ICompositionModel model, IReadOnlyList<Composition> compositions, int batchSize, bool sigma)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var result = new double[compositions.Count];
        var sigmas = new double[sigma ? compositions.Count : 0];
        if (compositions.Count == 0) return (result, sigmas);
        int batch = Math.Min(batchSize, compositions.Count);
        var backend = model.Backend;
        using var x = backend.Allocate<float>((long)batch * Elements.Count);
        using var y = backend.Allocate<float>(batch);
        using var s = backend.Allocate<float>(sigma ? batch : 1);
        var host = new float[batch * Elements.Count];
        var output = new float[batch];
        var spread = new float[batch];
        for (int start = 0; start < compositions.Count; start += batch)
        {
            int n = Math.Min(batch, compositions.Count - start);
            for (int i = 0; i < n; i++)
                compositions[start + i].WriteFractions(host.AsSpan(i * Elements.Count, Elements.Count));
            backend.Upload<float>(host.AsSpan(0, n * Elements.Count), x);
            if (sigma)
            {
                ((IUncertainCompositionModel)model).ForwardWithSigma(n, x, y, s);
                backend.Download(s, spread.AsSpan(0, n));
                for (int i = 0; i < n; i++) sigmas[start + i] = spread[i];
            }
            else model.Forward(n, x, y);
            backend.Download(y, output.AsSpan(0, n));
            for (int i = 0; i < n; i++) result[start + i] = output[i];
        }
        return (result, sigmas);
    }
}
