using System.Numerics;

namespace Kiago.Chemistry.Screening;

/// <summary>
/// SMACT's search over the Cartesian product of per-element oxidation states (one state per element, all atoms of it
/// share it): neutral when Σ ox_e·n_e = 0; among neutral assignments, the first that passes the Pauling test wins.
/// Exhaustive like SMACT (no cap), but branches whose remaining elements cannot bring the sum back to zero are pruned,
/// which changes no answer. Generic so huge limit_denominator counts run exactly in BigInteger.
/// </summary>
internal sealed class ChargeSearch<T> where T : INumber<T>
{
    readonly T[] counts;
    readonly int[][] states;
    readonly double[] electronegativities;
    readonly T[] suffixMin, suffixMax;
    readonly int[] assignment;

    public bool Neutral { get; private set; }
    public int[]? Witness { get; private set; }
    /// <summary>The first neutral assignment and the pair that failed its Pauling test (when no assignment passed).</summary>
    public int[]? FirstNeutral { get; private set; }
    public (int I, int J) FirstFailedPair { get; private set; } = (-1, -1);

    ChargeSearch(T[] counts, int[][] states, double[] electronegativities)
    {
        this.counts = counts;
        this.states = states;
        this.electronegativities = electronegativities;
        int n = counts.Length;
        assignment = new int[n];
        suffixMin = new T[n + 1];
        suffixMax = new T[n + 1];
        suffixMin[n] = suffixMax[n] = T.Zero;
        for (int d = n - 1; d >= 0; d--)
        {
            suffixMin[d] = suffixMin[d + 1] + T.CreateChecked(states[d].Min()) * counts[d];
            suffixMax[d] = suffixMax[d + 1] + T.CreateChecked(states[d].Max()) * counts[d];
        }
    }

    /// <summary>Every element must have at least one state (callers report those without).</summary>
    public static ChargeSearch<T> Run(T[] counts, int[][] states, double[] electronegativities)
    {
        var search = new ChargeSearch<T>(counts, states, electronegativities);
        search.Visit(0, T.Zero);
        return search;
    }

    bool Visit(int depth, T sum)
    {
        if (depth == counts.Length)
        {
            if (!T.IsZero(sum)) return false;
            Neutral = true;
            var outcome = PaulingTest.Run(assignment, electronegativities, out var pair);
            if (outcome != PaulingTest.Outcome.Fail)
            {
                Witness = (int[])assignment.Clone();
                return true;
            }
            if (FirstNeutral is null)
            {
                FirstNeutral = (int[])assignment.Clone();
                FirstFailedPair = pair;
            }
            return false;
        }
        var needed = -sum;
        if (needed < suffixMin[depth] || needed > suffixMax[depth]) return false;
        foreach (int state in states[depth])
        {
            assignment[depth] = state;
            if (Visit(depth + 1, sum + T.CreateChecked(state) * counts[depth])) return true;
        }
        return false;
    }
}
