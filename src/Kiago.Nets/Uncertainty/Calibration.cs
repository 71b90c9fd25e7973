namespace Kiago.Nets.Uncertainty;

/// <summary>What <see cref="Calibration.Fit"/> chose and how it scored on the calibration (validation) rows.</summary>
public sealed record CalibrationResult(
    UncertaintyHead Head,
    double FlagshipWeight,
    double MeanMae,
    double FlagshipMae,
    double Coverage68,
    double Coverage95,
    double Spearman,
    int Rows,
    IReadOnlyList<(double FlagshipWeight, double Mae)> WeightSearch,
    IReadOnlyList<(double Floor, double Width68, double Width95)> FloorSearch);

/// <summary>
/// Split-conformal calibration of the ensemble head on held-out (validation) rows, never on test:
/// (1) μ weights: the flagship gets w0 from a grid 0, 0.05, …, 1 and the members share 1 − w0 equally; w0 minimises the
/// MAE of μ; (2) the raw spread s = mean_j |m_j − μ|; (3) for each floor β on a grid of multiples of median(s), the
/// nonconformity scores r = |y − μ| / (s + β) give the conformal quantiles q68, q95 (the ⌈(n+1)·α⌉-th smallest); β is
/// the one with the narrowest mean 68 % + 95 % intervals. σ = q68 · (s + β) is then a 68 % half-width and q95/q68 · σ
/// a 95 % one, with the split-conformal guarantee (coverage ≥ α for exchangeable rows).
/// </summary>
public static class Calibration
{
    static readonly double[] FloorMultiples = [0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

    /// <param name="outputs">outputs[i][j]: prediction of model j (0 = flagship) for row i.</param>
    /// <param name="target">targets of the rows.</param>
    /// <param name="flagshipWeight">a fixed w0 instead of the search (e.g. 1 to keep μ = flagship).</param>
    public static CalibrationResult Fit(IReadOnlyList<double[]> outputs, IReadOnlyList<double> target, double? flagshipWeight = null)
    {
        int n = target.Count;
        if (n < 20) throw new ArgumentException($"calibration needs at least 20 rows, got {n}");
        int k = outputs[0].Length;
        if (k < 2) throw new ArgumentException("calibration needs the flagship and at least one member");
        var search = new List<(double, double)>();
        double bestW = 1, bestMae = double.PositiveInfinity;
        var grid = flagshipWeight is { } fixedW ? [fixedW] : Enumerable.Range(0, 21).Select(i => i / 20.0).ToArray();
        foreach (double w0 in grid)
        {
            var w = Weights(w0, k);
            double mae = Enumerable.Range(0, n).Average(i => Math.Abs(Mean(outputs[i], w) - target[i]));
            search.Add((w0, mae));
            if (mae < bestMae - 1e-12) (bestW, bestMae) = (w0, mae);
        }
        var weights = Weights(bestW, k);
        var mu = outputs.Select(o => Mean(o, weights)).ToArray();
        var spread = outputs.Select((o, i) => o.Average(v => Math.Abs(v - mu[i]))).ToArray();
        var err = Enumerable.Range(0, n).Select(i => Math.Abs(target[i] - mu[i])).ToArray();
        double median = Math.Max(UncertaintyMetrics.Quantile(spread, 0.5), 1e-6);
        var floors = new List<(double, double, double)>();
        double bestFloor = 0, bestWidth = double.PositiveInfinity, q68 = 0, q95 = 0;
        foreach (double m in FloorMultiples)
        {
            double beta = m * median;
            var r = Enumerable.Range(0, n).Select(i => err[i] / (spread[i] + beta)).ToArray();
            double a = UncertaintyMetrics.ConformalQuantile(r, 0.68), b = UncertaintyMetrics.ConformalQuantile(r, 0.95);
            double w68 = a * spread.Average(s => s + beta), w95 = b * spread.Average(s => s + beta);
            floors.Add((beta, w68, w95));
            // the two widths in units of the constant interval's (so neither level dominates)
            double score = w68 / UncertaintyMetrics.ConformalQuantile(err, 0.68) + w95 / UncertaintyMetrics.ConformalQuantile(err, 0.95);
            if (score < bestWidth) (bestWidth, bestFloor, q68, q95) = (score, beta, a, b);
        }
        if (!(q68 > 0)) throw new ArgumentException("calibration rows are predicted exactly (68 % conformal quantile 0): nothing to calibrate");
        var head = new UncertaintyHead([.. weights.Select(v => (float)v)], (float)q68, (float)bestFloor, (float)Math.Max(1, q95 / q68));
        var sigma = spread.Select(s => head.SigmaScale * (s + head.SigmaFloor)).Select(v => (double)v).ToArray();
        return new CalibrationResult(head, bestW, bestMae,
            Enumerable.Range(0, n).Average(i => Math.Abs(outputs[i][0] - target[i])),
            UncertaintyMetrics.Coverage(mu, sigma, target), UncertaintyMetrics.Coverage(mu, sigma, target, head.Interval95Factor),
            UncertaintyMetrics.Spearman(err, sigma), n, search, floors);
    }

    static double[] Weights(double w0, int k) =>
        [w0, .. Enumerable.Repeat((1 - w0) / (k - 1), k - 1)];

    static double Mean(double[] o, double[] w)
    {
        double s = 0;
        for (int j = 0; j < o.Length; j++) s += w[j] * o[j];
        return s;
    }
}
