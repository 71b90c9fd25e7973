using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Featurisers;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>
/// The predictors seen from a diffusion vector x (96 amounts): p(x) = max(x, 0)/Σ max(x, 0), padded to the 118
/// fractions the predictors take (zero when nothing is positive). Gives Tc(p(x)) and, for classifier guidance,
/// ∇_x [Tc(p(x)) − α·Ef(p(x))] through the normalisation (∂p_k/∂x_j = [x_j &gt; 0]·(δ_jk − p_k)/Σ).
/// </summary>
public sealed class CompositionGuidance : IDisposable
{
    const int L = DenoiserLayout.Elements, C = Featuriser.CompositionColumns;
    readonly ICompositionModel tc;
    readonly ICompositionModel? ef;
    readonly double efWeight;
    readonly IBackend backend;
    readonly int capacity;
    readonly DeviceBuffer<float> fractions, tcOut, efOut, gradient;
    readonly float[] hostFractions, hostGradient, hostTc;

    public CompositionGuidance(ICompositionModel tc, ICompositionModel? ef, double efWeight, int capacity)
    {
        this.tc = tc;
        this.ef = ef;
        this.efWeight = efWeight;
        this.capacity = capacity;
        backend = tc.Backend;
        if (ef is not null && !ReferenceEquals(ef.Backend, backend)) throw new ArgumentException("the Tc and Ef models must share one backend");
        fractions = backend.Allocate<float>((long)capacity * C);
        tcOut = backend.Allocate<float>(capacity);
        efOut = backend.Allocate<float>(capacity);
        gradient = backend.Allocate<float>((long)capacity * C);
        hostFractions = new float[capacity * C];
        hostGradient = new float[capacity * C];
        hostTc = new float[capacity];
    }

    /// <summary>Tc(p(x)) for the first <paramref name="n"/> rows of x [n, 96].</summary>
    public void Tc(int n, ReadOnlySpan<float> x, Span<double> result)
    {
        Upload(n, x);
        tc.Forward(n, fractions, tcOut);
        backend.Download(tcOut, hostTc.AsSpan(0, n));
        for (int i = 0; i < n; i++) result[i] = hostTc[i];
    }

    /// <summary>g[b, :] = ∇_x [Tc − α·Ef](p(x[b, :])) and Tc(p(x)) per row.</summary>
    public void Gradient(int n, ReadOnlySpan<float> x, Span<float> g, Span<double> tcResult)
    {
        Upload(n, x);
        backend.Fill(gradient, 0f, (long)n * C);
        tc.ForwardBackward(n, fractions, tcOut, gradient, 1f);
        if (ef is not null && efWeight != 0) ef.ForwardBackward(n, fractions, efOut, gradient, (float)-efWeight);
        backend.Download(tcOut, hostTc.AsSpan(0, n));
        backend.Download(gradient, hostGradient.AsSpan(0, n * C));
        for (int b = 0; b < n; b++)
        {
            tcResult[b] = hostTc[b];
            var row = x.Slice(b * L, L);
            var dp = hostGradient.AsSpan(b * C, C);
            var p = hostFractions.AsSpan(b * C, C);
            double sum = 0, pDotG = 0;
            for (int j = 0; j < L; j++) if (row[j] > 0) sum += row[j];
            for (int j = 0; j < L; j++) pDotG += p[j] * (double)dp[j];
            var gb = g.Slice(b * L, L);
            for (int j = 0; j < L; j++) gb[j] = sum > 0 && row[j] > 0 ? (float)((dp[j] - pDotG) / sum) : 0f;
        }
    }

    void Upload(int n, ReadOnlySpan<float> x)
    {
        if (n > capacity) throw new ArgumentOutOfRangeException(nameof(n), $"{n} rows, capacity {capacity}");
        Array.Clear(hostFractions, 0, n * C);
        for (int b = 0; b < n; b++)
        {
            var row = x.Slice(b * L, L);
            double sum = 0;
            for (int j = 0; j < L; j++) if (row[j] > 0) sum += row[j];
            if (sum <= 0) continue;
            var p = hostFractions.AsSpan(b * C, C);
            for (int j = 0; j < L; j++) p[j] = row[j] > 0 ? (float)(row[j] / sum) : 0f;
        }
        backend.Upload<float>(hostFractions.AsSpan(0, n * C), fractions);
    }

    public void Dispose()
    {
        fractions.Dispose();
        tcOut.Dispose();
        efOut.Dispose();
        gradient.Dispose();
    }
}
