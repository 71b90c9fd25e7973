using System.Numerics;
using Kiago.Chemistry;

namespace Kiago.Tests.Chemistry;

public class CompositionTests
{
    [Fact]
    public void Fraction_vector_is_indexed_by_z_minus_one()
    {
        // Fe2O3: Fe (Z 26) 2/5 = 0.4, O (Z 8) 3/5 = 0.6.
        var v = Composition.Parse("Fe2O3").ToFractionVector();
        Assert.Equal(Elements.Count, v.Length);
        Assert.Equal(0.4, v[25], 15);
        Assert.Equal(0.6, v[7], 15);
        Assert.Equal(1.0, v.Sum(), 15);
        var f = new float[Elements.Count];
        Composition.Parse("Fe2O3").WriteFractions(f);
        Assert.Equal(0.4f, f[25]);
    }

    [Fact]
    public void Normalise_sums_to_one()
    {
        var n = Composition.Parse("Y1Ba2Cu3O7").Normalise();
        Assert.Equal(1.0, n.TotalAtoms, 1e-15);
        Assert.Equal(7.0 / 13, n[Elements.Get("O")], 1e-15);
    }

    [Fact]
    public void Reduce_divides_integral_amounts_by_gcd_only()
    {
        Assert.Equal("Fe2O3", Composition.Parse("Fe4O6").Reduce().ToFormulaString().Replace("1", ""));
        // Fe4O6: gcd(4, 6) = 2 → Fe2O3.
        Assert.Equal(Composition.Parse("Fe2O3"), Composition.Parse("Fe4O6").Reduce());
        // A fractional amount leaves the composition as it is (pymatgen's to_reduced_dict).
        var yb = Composition.Parse("Y2Ba4Cu6O13.9");
        Assert.Same(yb, yb.Reduce());
        // Within 1e-8 of an integer counts as integral: 2.000000001 → 2, gcd(2, 4) = 2.
        Assert.Equal(Composition.Parse("Fe1O2"), Composition.Parse("Fe2.000000001O4").Reduce());
    }

    [Fact]
    public void Integer_counts_follow_limit_denominator_lcm_and_gcd()
    {
        // 6.95 → 139/20; lcm(1, 2, 3, 20) = 20 → Y20 Ba40 Cu60 O139; gcd = 1.
        Assert.Equal([20, 40, 60, 139], Composition.Parse("Y1Ba2Cu3O6.95").IntegerCounts().Select(c => (int)c));
        // Mo99.962Co0.038 → 49981/500 and 19/500 → 49981 : 19.
        Assert.Equal([49981, 19], Composition.Parse("Mo99.962Co0.038").IntegerCounts().Select(c => (int)c));
        // 1/3 as a double has denominator 2^54; limit_denominator(10^6) gives 1/3 → Fe1 O3... and 2/3 → 2/3; lcm 3 → 1, 2.
        Assert.Equal([1, 2], Composition.Parse("Fe0.3333333333333333O0.6666666666666666").IntegerCounts().Select(c => (int)c));
        // Fe4O6 → gcd 2 → 2, 3.
        Assert.Equal([2, 3], Composition.Parse("Fe4O6").IntegerCounts().Select(c => (int)c));
    }

    [Theory]
    // Values checked with Python: Fraction(x).limit_denominator(1000000).
    [InlineData(0.1, 1, 10)]
    [InlineData(3.141592653589793, 3126535, 995207)]
    [InlineData(1e-7, 0, 1)]
    [InlineData(6e-7, 1, 1000000)]
    [InlineData(1.5e-6, 1, 666667)]
    [InlineData(-0.75, -3, 4)]
    public void Limit_denominator_matches_python(double x, long num, long den)
    {
        var (n, d) = Rationals.LimitDenominator(x);
        Assert.Equal(new BigInteger(num), n);
        Assert.Equal(new BigInteger(den), d);
    }

    [Fact]
    public void Integer_formula_picks_the_best_atom_count()
    {
        // Fractions 0.4/0.6: N = 5 gives 2/5 and 3/5 exactly (error 0); N = 1…4 do not (e.g. N = 4: 0.4 → round(1.6)/4 = 0.5).
        var f = Composition.Parse("Fe0.4O0.6").ToIntegerFormula(maxAtomCount: 199)!;
        Assert.Equal("Fe2O3", f.ToString());
        Assert.Equal(5, f.TotalAtoms);
        // With at most 3 atoms: N = 2 → round(0.8) = 1, round(1.2) = 1: error (0.4 − 0.5)² + (0.6 − 0.5)² = 0.02;
        // N = 3 → 1/3, 2/3: error 0.0667² + 0.0667² ≈ 0.0089 (smaller) → Fe1O2.
        Assert.Equal("Fe1O2", Composition.Parse("Fe0.4O0.6").ToIntegerFormula(3)!.ToString());
    }

    [Fact]
    public void Equality_ignores_order()
    {
        Assert.Equal(Composition.Parse("O3Fe2"), Composition.Parse("Fe2O3"));
        Assert.Equal(Composition.Parse("O3Fe2").GetHashCode(), Composition.Parse("Fe2O3").GetHashCode());
        Assert.NotEqual(Composition.Parse("Fe2O3"), Composition.Parse("Fe2O3.0001"));
        Assert.True(Composition.Parse("Fe2O3").AlmostEquals(Composition.Parse("Fe2O3.000000001")));
    }

    [Theory]
    [InlineData("Y1Ba2Cu3O6.95", "Y1Ba2Cu3O6.95")]
    [InlineData("O3Fe2", "O3Fe2")]
    [InlineData("Fe1e-7", "Fe0.0000001")]
    [InlineData("Fe1e22", "Fe10000000000000000000000")]
    [InlineData("Ca(OH)2", "Ca1O2H2")]
    public void Formula_string_prints_plain_decimals(string formula, string printed) =>
        Assert.Equal(printed, Composition.Parse(formula).ToFormulaString());

    [Fact]
    public void Canonical_string_is_in_z_order_and_round_trips()
    {
        var c = Composition.Parse("O6.95Cu3Ba2Y1");
        Assert.Equal("O6.95Cu3Y1Ba2", c.ToCanonicalString());
        Assert.Equal(c, Composition.Parse(c.ToCanonicalString()));
        var third = Composition.Parse("Fe2O3").Normalise();
        Assert.Equal(third, Composition.Parse(third.ToCanonicalString()));
    }

    [Fact]
    public void From_vector_skips_zeros()
    {
        var v = new double[Elements.Count];
        v[0] = 0.5; v[7] = 0.25; v[25] = 0.25;
        Assert.Equal("H0.5O0.25Fe0.25", Composition.FromVector(v).ToFormulaString());
        Assert.Throws<ArgumentException>(() => Composition.FromVector(new double[3]));
    }
}
