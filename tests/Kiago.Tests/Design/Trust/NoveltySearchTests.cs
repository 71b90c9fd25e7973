using Kiago.Chemistry;
using Kiago.Design.Novelty;

namespace Kiago.Tests.Design.Trust;

/// <summary>The pruned nearest-neighbour search equals a brute-force scan over every known composition, for every query.</summary>
public sealed class NoveltySearchTests
{
    internal static (int Index, double Distance) BruteForce(KnownCompositions known, Composition c)
    {
        var x = new double[118];
        c.WriteFractions(x);
        int best = -1; double bestDistance = double.PositiveInfinity;
        for (int i = 0; i < known.Count; i++)
        {
            var y = new double[118];
            Composition.Parse(known.Entries[i].Key).WriteFractions(y);
            double d = 0;
            for (int e = 0; e < 118; e++) d += Math.Abs(x[e] - y[e]);
            if (d < bestDistance - 1e-12) { bestDistance = d; best = i; }
        }
        return (best, bestDistance);
    }

    static readonly string[] Pool = ["O", "Cu", "Ba", "Y", "La", "Sr", "Fe", "As", "Mg", "B", "Ca", "Hg", "Tl", "Bi", "Nb", "Sn", "H", "S", "Se", "Ni"];

    [Fact]
    public void Every_query_gets_the_brute_force_nearest_distance_and_exact_matches_are_known()
    {
        // a small list keeps the brute force cheap; every query is checked
        var rng = new Random(12);
        var listed = new List<(string, Composition, double)>();
        for (int i = 0; i < 400; i++)
        {
            var c = RandomComposition(rng);
            listed.Add((c.ToFormulaString(), c, i % 3 == 0 ? double.NaN : i));
        }
        var known = KnownCompositions.FromEntries(listed, "test");
        var search = new NoveltySearch(known);
        var queries = Enumerable.Range(0, 300).Select(i => i % 5 == 0 ? Scaled(listed[i].Item2, 2) : RandomComposition(rng)).ToList();
        var verdicts = search.QueryMany(queries);
        for (int q = 0; q < queries.Count; q++)
        {
            var (index, distance) = BruteForce(known, queries[q]);
            Assert.Equal(distance, verdicts[q].Distance, 9);
            bool exact = known.Find(KnownCompositions.KeyOf(queries[q])) is not null;
            Assert.Equal(exact, verdicts[q].Known);
            if (exact) Assert.Equal(0, verdicts[q].Distance);
            // the reported neighbour is one at that distance, and its Tc is that entry's
            var entry = known.Entries.Single(e => e.Formula == verdicts[q].NearestFormula);
            var (_, check) = BruteForce(KnownCompositions.FromEntries([(entry.Formula, Composition.Parse(entry.Key), entry.TcKelvin)], "one"), queries[q]);
            Assert.Equal(distance, check, 9);
            Assert.Equal(entry.TcKelvin, verdicts[q].NearestTcKelvin);
        }
    }

    [Fact]
    public void A_composition_sharing_no_element_is_at_distance_two()
    {
        var known = KnownCompositions.FromEntries([("MgB2", Composition.Parse("MgB2"), 39)], "test");
        var v = new NoveltySearch(known).Query(Composition.Parse("NaCl"));
        Assert.False(v.Known);
        Assert.Equal(2, v.Distance);
    }

    static Composition RandomComposition(Random rng)
    {
        int n = rng.Next(1, 6);
        var picked = Pool.OrderBy(_ => rng.Next()).Take(n);
        return Composition.FromAmounts(picked.Select(s => KeyValuePair.Create(Elements.Get(s), (double)rng.Next(1, 9))));
    }

    static Composition Scaled(Composition c, int k) => Composition.FromAmounts(c.Elements.Select(e => KeyValuePair.Create(e, c[e] * k)));
}
