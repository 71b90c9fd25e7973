namespace Kiago.Nets.Uncertainty;

/// <summary>
/// Nearest training composition in atom-fraction space. For two fraction vectors that each sum to 1,
/// L1(a, b) = 2 − 2 Σ_i min(a_i, b_i), so only training rows sharing an element with the query can be closer than
/// 2: an inverted index (element → rows) visits just those. Exact; about 0.1 s for 1,000 queries over 60k rows.
/// </summary>
public sealed class DomainIndex
{
    readonly DomainData data;
    readonly int[][] rowsWithElement;

    public DomainIndex(DomainData data)
    {
        this.data = data;
        var lists = Enumerable.Range(0, 118).Select(_ => new List<int>()).ToArray();
        for (int r = 0; r < data.Rows; r++)
            for (int p = data.Offsets[r]; p < data.Offsets[r + 1]; p++) lists[data.Elements[p]].Add(r);
        rowsWithElement = [.. lists.Select(l => l.ToArray())];
    }

    public DomainData Data => data;

    /// <summary>How many training rows contain element Z (1…118).</summary>
    public int RowsContaining(int z) => rowsWithElement[z - 1].Length;

    /// <summary>L1 distance (0 … 2) from <paramref name="fractions"/> (118 atom fractions summing to 1) to the nearest training row.</summary>
    public double NearestDistance(ReadOnlySpan<double> fractions, double[] scratch)
    {
        // scratch[r] accumulates Σ min over shared elements; touched rows are reset afterwards.
        var touched = new List<int>();
        double best = 0;
        for (int z = 0; z < 118; z++)
        {
            double f = fractions[z];
            if (f <= 0) continue;
            foreach (int r in rowsWithElement[z])
            {
                if (scratch[r] == 0) touched.Add(r);
                int p = data.Offsets[r];
                while (data.Elements[p] != z) p++;
                scratch[r] += Math.Min(f, data.Fractions[p]);
            }
        }
        foreach (int r in touched)
        {
            if (scratch[r] > best) best = scratch[r];
            scratch[r] = 0;
        }
        return Math.Max(0, 2 - 2 * best);
    }

    public double[] NearestDistances(IEnumerable<double[]> fractions)
    {
        var scratch = new double[data.Rows];
        return [.. fractions.Select(f => NearestDistance(f, scratch))];
    }
}
