namespace Kiago.Nets.Uncertainty;

/// <summary>How well σ describes the error: interval coverage and the rank correlation of |error| with σ.</summary>
public static class UncertaintyMetrics
{
    /// <summary>Fraction of rows with |target − mean| ≤ factor · σ.</summary>
    public static double Coverage(IReadOnlyList<double> mean, IReadOnlyList<double> sigma, IReadOnlyList<double> target, double factor = 1)
    {
        int n = target.Count, inside = 0;
        if (n == 0) return double.NaN;
        for (int i = 0; i < n; i++)
            if (Math.Abs(target[i] - mean[i]) <= factor * sigma[i]) inside++;
        return (double)inside / n;
    }

    /// <summary>Spearman rank correlation (ties get their average rank).</summary>
    public static double Spearman(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("a and b differ in length");
        if (a.Count < 2) return double.NaN;
        return Pearson(Ranks(a), Ranks(b));
    }

    static double[] Ranks(IReadOnlyList<double> v)
    {
        int n = v.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => v[i]).ToArray();
        var ranks = new double[n];
        for (int s = 0; s < n;)
        {
            int e = s;
            while (e + 1 < n && v[order[e + 1]] == v[order[s]]) e++;
            double r = (s + e) / 2.0;
            for (int k = s; k <= e; k++) ranks[order[k]] = r;
            s = e + 1;
        }
        return ranks;
    }

    static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxx > 0 && syy > 0 ? sxy / Math.Sqrt(sxx * syy) : double.NaN;
    }

    /// <summary>The ⌈(n+1)·level⌉-th smallest value (split-conformal quantile; the largest value when that exceeds n).</summary>
    public static double ConformalQuantile(IReadOnlyList<double> scores, double level)
    {
        var sorted = scores.OrderBy(s => s).ToArray();
        int k = (int)Math.Ceiling((sorted.Length + 1) * level);
        return sorted[Math.Clamp(k, 1, sorted.Length) - 1];
    }

    /// <summary>Linear-interpolated quantile (numpy's default).</summary>
    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        var sorted = values.OrderBy(s => s).ToArray();
        if (sorted.Length == 0) return double.NaN;
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
