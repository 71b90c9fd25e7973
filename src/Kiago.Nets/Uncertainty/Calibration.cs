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
    IReadOnlyList<(double Floor, double Width68, double Width95)> FloorSearch,
    string WeightMethod = Calibration.FlagshipShare,
    double SelectionMae = double.NaN,
    int BalanceBins = 0,
    IReadOnlyList<double>? BinCoverage68 = null);
// FloorSearch lists the γ = 0 row of the (β, γ) search; the chosen pair is in Head. BinCoverage68: the chosen σ's
// 68 % coverage in each of BalanceBins equal-count bins of μ (lowest μ first), also when BalanceBins was 0 (then 3 bins,
// for the card).

/// <summary>
/// Split-conformal calibration of the ensemble head on held-out (validation) rows, never on test:
/// (1) μ weights: the flagship gets w0 from a grid 0, 0.05, …, 1 and the members share 1 − w0 equally; w0 minimises the
/// MAE of μ; when the members differ (another model family beside same-family seeds) equal shares waste the better
/// ones, so greedy ensemble selection (Caruana et al. 2004: 20 rounds, each adds with replacement the model that most
/// lowers the MAE of the running mean; weights = picks / 20) is scored too, and the lower validation MAE wins; (2) the raw spread s = mean_j |m_j − μ|; (3) for each floor β on a grid of multiples of median(s), the
/// nonconformity scores r = |y − μ| / (s + β + γ·|μ − c|) (c = the median μ, or the smallest μ so that σ grows with μ;
/// γ on its own grid, 0 = off) give the
/// conformal quantiles q68, q95 (the ⌈(n+1)·α⌉-th smallest); (β, γ) is the pair with the narrowest mean 68 % + 95 %
/// intervals, or, with balance bins B &gt; 0, the narrowest of the pairs whose worst 68 % coverage over B equal-count
/// bins of μ is within one binomial standard error of the best pair's (so σ is right where μ is high, e.g. the
/// high-Tc candidates an optimiser seeks, not only on average). σ = q68 · (s + β) is then a 68 % half-width and q95/q68 · σ
/// a 95 % one, with the split-conformal guarantee (coverage ≥ α for exchangeable rows).
/// </summary>
public static class Calibration
{
    static readonly double[] FloorMultiples = [0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];
    // γ in units of median(spread) / median(|μ − median μ|): 1 = the level term as large as the spread, typically
    static readonly double[] LevelMultiples = [0, 0.1, 0.25, 0.5, 1, 2, 4];
    const int SelectionRounds = 20;
    public const string FlagshipShare = "flagship share", GreedySelection = "greedy selection";

    /// <param name="outputs">outputs[i][j]: prediction of model j (0 = flagship) for row i.</param>
    /// <param name="target">targets of the rows.</param>
    /// <param name="flagshipWeight">a fixed w0 instead of the search (e.g. 1 to keep μ = flagship).</param>
    /// <param name="levelTerm">also search the level weight γ and its centre (σ grows with |μ − median μ| or with μ − min μ); false keeps γ = 0.</param>
    /// <param name="selection">also score greedy ensemble selection (ignored when <paramref name="flagshipWeight"/> is fixed).</param>
    /// <param name="balanceBins">0: the narrowest intervals; B ≥ 2: the narrowest whose 68 % coverage is even across B bins of μ.</param>
    public static CalibrationResult Fit(IReadOnlyList<double[]> outputs, IReadOnlyList<double> target, double? flagshipWeight = null,
        bool levelTerm = true, bool selection = true, int balanceBins = 0)
    {
        if (balanceBins is 1 or < 0) throw new ArgumentException($"balance bins {balanceBins}: 0 (off) or at least 2");
        int n = target.Count;
        if (n < 20) throw new ArgumentException($"calibration needs at least 20 rows, got {n}");
        if (balanceBins > n / 10) throw new ArgumentException($"balance bins {balanceBins}: needs at least 10 calibration rows per bin, got {n} rows");
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
        string method = FlagshipShare;
        double selectionMae = double.NaN;
        if (selection && flagshipWeight is null)
        {
            var (picked, mae) = Select(outputs, target);
            selectionMae = mae;
            if (mae < bestMae - 1e-12) (weights, bestW, bestMae, method) = (picked, picked[0], mae, GreedySelection);
        }
        var mu = outputs.Select(o => Mean(o, weights)).ToArray();
        var spread = outputs.Select((o, i) => o.Average(v => Math.Abs(v - mu[i]))).ToArray();
        var err = Enumerable.Range(0, n).Select(i => Math.Abs(target[i] - mu[i])).ToArray();
        double median = Math.Max(UncertaintyMetrics.Quantile(spread, 0.5), 1e-6);
        var floors = new List<(double, double, double)>();
        var configs = new List<(double Beta, double Gamma, double Center, double Q68, double Q95, double Score, double[] Raw)>();
        double constant68 = UncertaintyMetrics.ConformalQuantile(err, 0.68), constant95 = UncertaintyMetrics.ConformalQuantile(err, 0.95);
        // the level term's centre: the median μ (σ grows both ways, for targets with two tails such as Ef) or the
        // smallest μ (σ grows with μ, for targets whose errors scale with the value, such as Tc)
        double[] centers = levelTerm ? [UncertaintyMetrics.Quantile(mu, 0.5), mu.Min()] : [UncertaintyMetrics.Quantile(mu, 0.5)];
        foreach (double center in centers)
        {
            var level = mu.Select(m => Math.Abs(m - center)).ToArray();
            double levelUnit = median / Math.Max(UncertaintyMetrics.Quantile(level, 0.5), 1e-6);
            foreach (double g in levelTerm ? LevelMultiples : [0.0])
            {
                if (g == 0 && center != centers[0]) continue; // γ = 0 does not depend on the centre
                foreach (double m in FloorMultiples)
                {
                    double beta = m * median, gamma = g * levelUnit;
                    var raw = Enumerable.Range(0, n).Select(i => spread[i] + beta + gamma * level[i]).ToArray();
                    var r = Enumerable.Range(0, n).Select(i => err[i] / raw[i]).ToArray();
                    double a = UncertaintyMetrics.ConformalQuantile(r, 0.68), b = UncertaintyMetrics.ConformalQuantile(r, 0.95);
                    double w68 = a * raw.Average(), w95 = b * raw.Average();
                    if (g == 0) floors.Add((beta, w68, w95));
                    // the two widths in units of the constant interval's (so neither level dominates)
                    configs.Add((beta, gamma, center, a, b, w68 / constant68 + w95 / constant95, raw));
                }
            }
        }
        var bins = MuBins(mu, balanceBins > 0 ? balanceBins : 3);
        double[] BinCoverage(int c) => BinCoverages(bins, err, configs[c].Raw, configs[c].Q68);
        var eligible = Enumerable.Range(0, configs.Count).ToList();
        if (balanceBins > 0)
        {
            var worst = eligible.Select(c => BinCoverage(c).Max(v => Math.Abs(v - 0.68))).ToArray();
            double tolerance = Math.Sqrt(0.68 * 0.32 / (n / (double)balanceBins));
            double best = worst.Min();
            eligible = [.. eligible.Where(c => worst[c] <= best + tolerance)];
        }
        int chosen = eligible[0];
        foreach (int c in eligible)
            if (configs[c].Score < configs[chosen].Score) chosen = c; // ties: the first in search order
        var (bestFloor, bestLevel, bestCenter, q68, q95, _, _) = configs[chosen];
        var binCoverage = BinCoverage(chosen);
        if (!(q68 > 0)) throw new ArgumentException("calibration rows are predicted exactly (68 % conformal quantile 0): nothing to calibrate");
        var head = new UncertaintyHead([.. weights.Select(v => (float)v)], (float)q68, (float)bestFloor, (float)Math.Max(1, q95 / q68),
            (float)bestCenter, (float)bestLevel);
        var sigma = spread.Select((s, i) => head.SigmaScale * (s + head.SigmaFloor + head.LevelWeight * Math.Abs(mu[i] - head.LevelCenter))).ToArray();
        return new CalibrationResult(head, bestW, bestMae,
            Enumerable.Range(0, n).Average(i => Math.Abs(outputs[i][0] - target[i])),
            UncertaintyMetrics.Coverage(mu, sigma, target), UncertaintyMetrics.Coverage(mu, sigma, target, head.Interval95Factor),
            UncertaintyMetrics.Spearman(err, sigma), n, search, floors, method, selectionMae, balanceBins, binCoverage);
    }

    /// <summary>Bin of each row: B equal-count bins by μ (ties by row order).</summary>
    static int[] MuBins(double[] mu, int bins)
    {
        var order = Enumerable.Range(0, mu.Length).OrderBy(i => mu[i]).ThenBy(i => i).ToArray();
        var bin = new int[mu.Length];
        for (int rank = 0; rank < order.Length; rank++) bin[order[rank]] = (int)((long)rank * bins / order.Length);
        return bin;
    }

    static double[] BinCoverages(int[] bin, double[] err, double[] raw, double q68)
    {
        int bins = bin.Max() + 1;
        var inside = new int[bins];
        var count = new int[bins];
        for (int i = 0; i < bin.Length; i++)
        {
            count[bin[i]]++;
            if (err[i] <= q68 * raw[i]) inside[bin[i]]++;
        }
        return [.. inside.Select((v, b) => count[b] > 0 ? v / (double)count[b] : double.NaN)];
    }

    /// <summary>Greedy ensemble selection with replacement: the weights (picks / rounds) and the MAE of their mean.</summary>
    static (double[] Weights, double Mae) Select(IReadOnlyList<double[]> outputs, IReadOnlyList<double> target)
    {
        int n = target.Count, k = outputs[0].Length;
        var sum = new double[n];
        var counts = new int[k];
        double mae = double.PositiveInfinity;
        for (int round = 1; round <= SelectionRounds; round++)
        {
            int best = -1;
            double bestMae = double.PositiveInfinity;
            for (int j = 0; j < k; j++)
            {
                double total = 0;
                for (int i = 0; i < n; i++) total += Math.Abs((sum[i] + outputs[i][j]) / round - target[i]);
                if (total / n < bestMae - 1e-12) (best, bestMae) = (j, total / n); // ties: the lower index (the flagship first)
            }
            counts[best]++;
            for (int i = 0; i < n; i++) sum[i] += outputs[i][best];
            mae = bestMae;
        }
        return ([.. counts.Select(c => c / (double)SelectionRounds)], mae);
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
