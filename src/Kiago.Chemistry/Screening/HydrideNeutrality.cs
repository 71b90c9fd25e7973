namespace Kiago.Chemistry.Screening;

/// <summary>
/// KIAGO's per-atom neutrality (§7.2): an element with n atoms reaches every sum of n states picked with repetition;
/// neutral when one reachable total per element sums to 0. The code enumerates product(states, repeat=n); this
/// dynamic-programming Minkowski sum gives the same set in polynomial time.
/// </summary>
internal static class HydrideNeutrality
{
    /// <summary>Reachable totals of <paramref name="atoms"/> picks from <paramref name="states"/> (n = 0 → {0}).</summary>
    public static HashSet<int> Totals(IReadOnlyList<int> states, long atoms)
    {
        var reachable = new HashSet<int> { 0 };
        for (long k = 0; k < atoms; k++)
            reachable = MinkowskiSum(reachable, states);
        return reachable;
    }

    public static bool IsNeutral(IEnumerable<HashSet<int>> totalsPerElement)
    {
        var sums = new HashSet<int> { 0 };
        foreach (var totals in totalsPerElement)
            sums = MinkowskiSum(sums, totals);
        return sums.Contains(0);
    }

    static HashSet<int> MinkowskiSum(HashSet<int> a, IEnumerable<int> b)
    {
        var result = new HashSet<int>();
        foreach (int x in a)
            foreach (int y in b)
                result.Add(x + y);
        return result;
    }
}
