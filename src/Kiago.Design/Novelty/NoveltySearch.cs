using Kiago.Chemistry;

namespace Kiago.Design.Novelty;

/// <summary>
/// Nearest known composition by L1 distance on atom fractions, pruned by element: both vectors sum to 1, so
/// ‖x − y‖₁ = 2 − 2·Σ_e min(x_e, y_e), and only known compositions sharing an element with the query can be nearer
/// than 2. Each query walks the posting lists of its own elements (an inverted index, element → (entry, fraction)),
/// accumulating the overlap Σ min(x_e, y_e); the largest overlap wins, ties to the smaller entry (key order). The
/// winner's distance is then recomputed exactly over the union of elements. Queries run in parallel, each
/// independent, so results do not depend on the thread count.
/// </summary>
public sealed class NoveltySearch
{
    const int E = Elements.Count;
    readonly KnownCompositions known;
    readonly int[][] postingEntry = new int[E][];
    readonly double[][] postingFraction = new double[E][];

    public KnownCompositions Known => known;

    public NoveltySearch(KnownCompositions known)
    {
        this.known = known;
        var counts = new int[E];
        foreach (var el in known.ElementIndex) counts[el]++;
        for (int e = 0; e < E; e++) { postingEntry[e] = new int[counts[e]]; postingFraction[e] = new double[counts[e]]; }
        var fill = new int[E];
        for (int i = 0; i < known.Count; i++)
            for (int j = known.Start[i]; j < known.Start[i + 1]; j++)
            {
                int e = known.ElementIndex[j];
                postingEntry[e][fill[e]] = i;
                postingFraction[e][fill[e]++] = known.Fraction[j];
            }
    }

    /// <summary>One verdict per composition (null → <see cref="NoveltyVerdict.None"/>), in input order.</summary>
    public NoveltyVerdict[] QueryMany(IReadOnlyList<Composition?> compositions)
    {
        var results = new NoveltyVerdict[compositions.Count];
        Parallel.For(0, compositions.Count,
            () => new double[known.Count],
            (i, _, overlap) =>
            {
                results[i] = compositions[i] is { } c ? Query(c, overlap) : NoveltyVerdict.None;
                return overlap;
            },
            _ => { });
        return results;
    }

    public NoveltyVerdict Query(Composition composition) => Query(composition, new double[known.Count]);

    /// <summary><paramref name="overlap"/>: scratch of <see cref="KnownCompositions.Count"/> zeros; left zeroed.</summary>
    NoveltyVerdict Query(Composition composition, double[] overlap)
    {
        if (known.Count == 0) return new NoveltyVerdict(false, "", 2, double.NaN);
        string key = KnownCompositions.KeyOf(composition);
        int exact = known.IndexOf(key);
        var x = new double[E];
        composition.WriteFractions(x);
        int best;
        if (exact >= 0) best = exact;
        else
        {
            best = -1;
            double bestOverlap = 0;
            foreach (var el in composition.Elements)
            {
                var entries = postingEntry[el.Index]; var fractions = postingFraction[el.Index];
                double xe = x[el.Index];
                for (int p = 0; p < entries.Length; p++) overlap[entries[p]] += Math.Min(xe, fractions[p]);
            }
            // second pass over the same lists: pick the best and clear the scratch (only touched entries)
            foreach (var el in composition.Elements)
            {
                var entries = postingEntry[el.Index];
                for (int p = 0; p < entries.Length; p++)
                {
                    int i = entries[p];
                    double o = overlap[i];
                    if (o == 0) continue; // already visited through another element
                    if (o > bestOverlap || o == bestOverlap && i < best) { bestOverlap = o; best = i; }
                    overlap[i] = 0;
                }
            }
            if (best < 0) return new NoveltyVerdict(false, "", 2, double.NaN);
        }
        var entry = known.Entries[best];
        return new NoveltyVerdict(exact >= 0, entry.Formula, exact >= 0 ? 0 : Distance(x, best), entry.TcKelvin);
    }

    /// <summary>Σ_e |x_e − y_e| over the union of elements, in double.</summary>
    double Distance(double[] x, int entry)
    {
        double sum = 0, shared = 0;
        for (int j = known.Start[entry]; j < known.Start[entry + 1]; j++)
        {
            int e = known.ElementIndex[j];
            sum += Math.Abs(x[e] - known.Fraction[j]);
            shared += x[e];
        }
        // elements of x absent from the entry: their whole fraction
        return sum + Math.Max(0, 1 - shared);
    }
}
