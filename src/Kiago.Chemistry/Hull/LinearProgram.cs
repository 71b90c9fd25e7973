namespace Kiago.Chemistry.Hull;

/// <summary>
/// Dense two-phase simplex with Bland's rule for min cᵀλ subject to Aλ = b, λ ≥ 0 (b ≥ 0). Small row counts
/// (one per element, ≤ 8 here) and up to thousands of columns: each pivot is O(rows × columns).
/// </summary>
internal static class LinearProgram
{
    const double Epsilon = 1e-11;

    /// <summary>Returns the optimum and λ, or null when infeasible. Unboundedness cannot occur for hull problems.</summary>
    public static (double Value, double[] Solution)? Minimise(double[,] a, double[] b, double[] c)
    {
        int m = b.Length, n = c.Length, width = n + m + 1; // columns: λ, artificials, rhs
        var t = new double[m + 1, width];
        var basis = new int[m];
        for (int i = 0; i < m; i++)
        {
            double sign = b[i] < 0 ? -1 : 1;
            for (int j = 0; j < n; j++) t[i, j] = sign * a[i, j];
            t[i, n + i] = 1;
            t[i, width - 1] = sign * b[i];
            basis[i] = n + i;
        }
        // Phase 1: minimise the sum of artificials (objective row = −Σ constraint rows over λ).
        for (int j = 0; j < width; j++)
        {
            if (j >= n && j < n + m) continue;
            double s = 0;
            for (int i = 0; i < m; i++) s += t[i, j];
            t[m, j] = -s;
        }
        Iterate(t, basis, m, n + m);
        if (-t[m, width - 1] > 1e-9) return null;
        // Drive remaining artificials out of the basis where possible (degenerate rows).
        for (int i = 0; i < m; i++)
        {
            if (basis[i] < n) continue;
            for (int j = 0; j < n; j++)
                if (Math.Abs(t[i, j]) > Epsilon) { Pivot(t, basis, i, j); break; }
        }
        // Phase 2: real objective over λ only; artificials are barred from entering.
        for (int j = 0; j < width; j++) t[m, j] = j < n ? c[j] : 0;
        for (int i = 0; i < m; i++)
        {
            int k = basis[i];
            if (k >= n) continue;
            double factor = t[m, k];
            if (factor == 0) continue;
            for (int j = 0; j < width; j++) t[m, j] -= factor * t[i, j];
        }
        Iterate(t, basis, m, n);
        var solution = new double[n];
        for (int i = 0; i < m; i++)
            if (basis[i] < n) solution[basis[i]] = t[i, width - 1];
        double value = 0;
        for (int j = 0; j < n; j++) value += c[j] * solution[j];
        return (value, solution);
    }

    /// <summary>Pivots until no column below <paramref name="enterable"/> has a negative reduced cost (Bland's rule).</summary>
    static void Iterate(double[,] t, int[] basis, int m, int enterable)
    {
        int width = t.GetLength(1);
        while (true)
        {
            int enter = -1;
            for (int j = 0; j < enterable; j++)
                if (t[m, j] < -Epsilon) { enter = j; break; }
            if (enter < 0) return;
            int leave = -1;
            double best = double.PositiveInfinity;
            for (int i = 0; i < m; i++)
            {
                if (t[i, enter] <= Epsilon) continue;
                double ratio = t[i, width - 1] / t[i, enter];
                if (ratio < best - Epsilon || (Math.Abs(ratio - best) <= Epsilon && basis[i] < basis[leave]))
                    (best, leave) = (ratio, i);
            }
            if (leave < 0) throw new InvalidOperationException("unbounded linear program");
            Pivot(t, basis, leave, enter);
        }
    }

    static void Pivot(double[,] t, int[] basis, int row, int column)
    {
        int rows = t.GetLength(0), width = t.GetLength(1);
        double p = t[row, column];
        for (int j = 0; j < width; j++) t[row, j] /= p;
        for (int i = 0; i < rows; i++)
        {
            if (i == row) continue;
            double f = t[i, column];
            if (f == 0) continue;
            for (int j = 0; j < width; j++) t[i, j] -= f * t[row, j];
        }
        basis[row] = column;
    }
}
