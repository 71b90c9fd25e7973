using Kiago.Kernels.Composition;

namespace Kiago.Tests.Design.Support;

/// <summary>Plain scalar double-precision reference of the composition map and the integer loss (reference §5.2–5.3).</summary>
public static class CompositionReference
{
    const int E = 118;

    /// <summary>x = c + (1 − Σc)·σ(σ(θ⊙m)⊙M); null when a normalising sum is 0 (the reference's NaN row).</summary>
    public static double[]? X(ReadOnlySpan<double> theta, ReadOnlySpan<float> top, CompositionSpec spec)
    {
        var r1 = new double[E];
        double s1 = 0;
        for (int e = 0; e < E; e++) { r1[e] = Math.Max(theta[e] * top[e], 0); s1 += r1[e]; }
        if (s1 == 0) return null;
        var r2 = new double[E];
        double s2 = 0;
        for (int e = 0; e < E; e++) { r2[e] = Math.Max(r1[e] / s1 * spec.Allowed[e], 0); s2 += r2[e]; }
        if (s2 == 0) return null;
        double fixedSum = 0;
        for (int e = 0; e < E; e++) fixedSum += spec.Fixed[e];
        var x = new double[E];
        for (int e = 0; e < E; e++) x[e] = (1 - fixedSum) * r2[e] / s2 + spec.Fixed[e];
        return x;
    }

    public static double IntegerLossAt(ReadOnlySpan<double> x, int n, IntegerDistance distance)
    {
        double sum = 0;
        for (int e = 0; e < E; e++)
        {
            double d = x[e] - Math.Round(x[e] * n, MidpointRounding.ToEven) / n;
            sum += distance == IntegerDistance.Squared ? d * d : Math.Abs(d);
        }
        return sum;
    }

    public static (double Loss, int N) IntegerLoss(ReadOnlySpan<double> x, CompositionSpec spec)
    {
        double best = double.PositiveInfinity; int bestN = spec.NSet[0];
        foreach (int n in spec.NSet)
        {
            double l = IntegerLossAt(x, n, spec.Distance);
            if (l < best) { best = l; bestN = n; }
        }
        return (best, bestN);
    }

    /// <summary>Rounded values x·N at N (to detect a rounding flip between finite-difference points).</summary>
    public static double[] Rounded(ReadOnlySpan<double> x, int n)
    {
        var r = new double[E];
        for (int e = 0; e < E; e++) r[e] = Math.Round(x[e] * n, MidpointRounding.ToEven);
        return r;
    }
}
