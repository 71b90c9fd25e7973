using Kiago.Chemistry;
using Kiago.Nets;

namespace Kiago.Design.Experiments;

/// <summary>Runs a composition model over a list of compositions (normalised to atom fractions), in batches.</summary>
public static class ModelPredictions
{
    public static double[] Predict(ICompositionModel model, IReadOnlyList<Composition> compositions, int batchSize = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var result = new double[compositions.Count];
        if (compositions.Count == 0) return result;
        int batch = Math.Min(batchSize, compositions.Count);
        var backend = model.Backend;
        using var x = backend.Allocate<float>((long)batch * Elements.Count);
        using var y = backend.Allocate<float>(batch);
        var host = new float[batch * Elements.Count];
        var output = new float[batch];
        for (int start = 0; start < compositions.Count; start += batch)
        {
            int n = Math.Min(batch, compositions.Count - start);
            for (int i = 0; i < n; i++)
                compositions[start + i].WriteFractions(host.AsSpan(i * Elements.Count, Elements.Count));
            backend.Upload<float>(host.AsSpan(0, n * Elements.Count), x);
            model.Forward(n, x, y);
            backend.Download(y, output.AsSpan(0, n));
            for (int i = 0; i < n; i++) result[start + i] = output[i];
        }
        return result;
    }
}
