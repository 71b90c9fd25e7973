using System.Numerics;
using Kiago.Chemistry;
using Kiago.Chemistry.Screening;

namespace Kiago.Tests.Chemistry;

/// <summary>The pruned search agrees with SMACT's plain Cartesian product, in 64-bit and BigInteger arithmetic.</summary>
public class ChargeSearchTests
{
    /// <summary>SMACT as written: every assignment in itertools.product order, neutral then Pauling.</summary>
    static (bool Neutral, int[]? Witness) BruteForce(long[] counts, int[][] states, double[] en)
    {
        bool neutral = false;
        IEnumerable<int[]> product = [[]];
        foreach (var s in states) product = product.SelectMany(prefix => s.Select(x => (int[])[.. prefix, x]));
        foreach (var assignment in product)
        {
            if (assignment.Select((ox, i) => ox * counts[i]).Sum() != 0) continue;
            neutral = true;
            if (PaulingTest.Run(assignment, en, out _) != PaulingTest.Outcome.Fail) return (true, assignment);
        }
        return (neutral, null);
    }

    [Fact]
    public void Pruned_search_matches_brute_force_on_random_formulas()
    {
        var rng = new Random(1234);
        var pool = Elements.All.Where(e => e.OxidationStatesSmact14.Count > 0 && e.Z <= 103).ToArray();
        for (int trial = 0; trial < 400; trial++)
        {
            var elements = pool.OrderBy(_ => rng.Next()).Take(rng.Next(2, 5)).ToArray();
            var counts = elements.Select(_ => (long)rng.Next(1, 9)).ToArray();
            var states = elements.Select(e => e.OxidationStatesSmact14.ToArray()).ToArray();
            var en = elements.Select(e => e.PaulingSmact ?? double.NaN).ToArray();
            var expected = BruteForce(counts, states, en);
            var fast = ChargeSearch<long>.Run(counts, states, en);
            var big = ChargeSearch<BigInteger>.Run([.. counts.Select(c => new BigInteger(c))], states, en);
            var label = string.Concat(elements.Select((e, i) => e.Symbol + counts[i]));
            Assert.True(expected.Neutral == fast.Neutral, label);
            Assert.True(expected.Witness?.SequenceEqual(fast.Witness ?? []) ?? fast.Witness is null, label);
            Assert.Equal(fast.Neutral, big.Neutral);
            Assert.Equal(fast.Witness, big.Witness);
        }
    }

    [Fact]
    public void Huge_counts_use_exact_arithmetic()
    {
        // Amounts 1/p for the primes p = 999983, 999979, 999961, 999959: limit_denominator keeps each 1/p, the lcm is their
        // product and the counts are lcm/p ≈ 1e18 > 2^50 (Python: [999899003278966421, 999903002958972817,
        // 999921001914985363, 999923001838986077]); itertools.product over Fe, Co, Ni, O states finds no zero sum.
        var c = Composition.FromAmounts([
            KeyValuePair.Create(Elements.Get("Fe"), 1.0 / 999983),
            KeyValuePair.Create(Elements.Get("Co"), 1.0 / 999979),
            KeyValuePair.Create(Elements.Get("Ni"), 1.0 / 999961),
            KeyValuePair.Create(Elements.Get("O"), 1.0 / 999959)]);
        var counts = c.IntegerCounts();
        Assert.Equal(BigInteger.Parse("999899003278966421"), counts[0]);
        Assert.True(counts.Max() > (BigInteger.One << 50));
        var v = Screener.Screen(c);
        Assert.False(v.ChargeNeutral);
        Assert.Equal(string.Concat(c.Elements.Select((e, i) => e.Symbol + counts[i])), v.Formula);
    }
}
