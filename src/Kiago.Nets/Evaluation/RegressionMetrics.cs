namespace Kiago.Nets.Evaluation;

/// <summary>MAE, RMSE and R² of predictions against targets, accumulated in double.</summary>
public sealed record RegressionMetrics(int Count, double Mae, double Rmse, double R2)
{
    public static RegressionMetrics Of(IReadOnlyList<double> predicted, IReadOnlyList<double> target)
    {
        if (predicted.Count != target.Count) throw new ArgumentException("predicted and target differ in length");
        int n = target.Count;
        if (n == 0) return new(0, double.NaN, double.NaN, double.NaN);
        double mean = target.Average();
        double abs = 0, sq = 0, tot = 0;
        for (int i = 0; i < n; i++)
        {
            double e = predicted[i] - target[i];
            abs += Math.Abs(e);
            sq += e * e;
            tot += (target[i] - mean) * (target[i] - mean);
        }
        return new(n, abs / n, Math.Sqrt(sq / n), tot > 0 ? 1 - sq / tot : double.NaN);
    }
}
