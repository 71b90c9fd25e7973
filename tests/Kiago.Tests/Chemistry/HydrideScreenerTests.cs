using Kiago.Chemistry;
using Kiago.Chemistry.Screening;

namespace Kiago.Tests.Chemistry;

/// <summary>KIAGO's hydride screening (kiago-reference.md §7.2): per-atom states, ≤ 3 elements, ≤ 15 atoms, 0.4 ≤ x_H &lt; 1.</summary>
public class HydrideScreenerTests
{
    static ScreeningVerdict Screen(string formula, HydrideScreeningOptions? options = null) =>
        Screener.ScreenHydride(Composition.Parse(formula), options);

    [Fact]
    public void LaH10_is_neutral_per_atom()
    {
        // La{+2,+3}; 10 H atoms reach {−10, −8, …, 10}. La +2 with six H⁻ and four H⁺: 2 − 6 + 4 = 0.
        // x_H = 10/11 ≈ 0.91 ∈ [0.4, 1); 11 atoms ≤ 15.
        var v = Screen("LaH10");
        Assert.True(v.Passed);
        Assert.Null(v.ElectronegativityOk);
        Assert.Empty(v.Reasons);
    }

    [Fact]
    public void H3S_is_neutral()
    {
        // S +3 with three H⁻: 3 − 3 = 0; x_H = 3/4.
        Assert.True(Screen("H3S").Passed);
    }

    [Fact]
    public void LaH_is_not_neutral()
    {
        // La{+2,+3} + H{−1,+1}: sums 1, 3, 2, 4; never 0. x_H = 0.5 is fine.
        var v = Screen("LaH");
        Assert.True(v.Valid);
        Assert.False(v.ChargeNeutral);
        Assert.Equal("NotChargeNeutral", v.ReasonCodes);
    }

    [Fact]
    public void Atom_and_element_caps_fail_the_neutrality_check()
    {
        // LaH16: 17 atoms > 15.
        var big = Screen("LaH16");
        Assert.False(big.ChargeNeutral);
        Assert.False(big.Valid);
        Assert.Equal("TooManyAtoms; NotChargeNeutral", big.ReasonCodes);
        // 4 elements > 3 (atoms 1 + 1 + 1 + 6 = 9 ≤ 15, x_H = 6/9): only the element cap fails, inside the neutrality check.
        var four = Screen("CaYBH6");
        Assert.True(four.Valid);
        Assert.False(four.ChargeNeutral);
        Assert.Equal("TooManyElements; NotChargeNeutral", four.ReasonCodes);
    }

    [Fact]
    public void Hydrogen_fraction_bounds()
    {
        // Pure H2: x_H = 1 is outside [0.4, 1) although H⁺ + H⁻ is neutral.
        var h2 = Screen("H2");
        Assert.True(h2.ChargeNeutral);
        Assert.False(h2.Valid);
        Assert.Equal("HydrogenFraction(H)", h2.ReasonCodes);
        // La3H2: x_H = 2/5 = 0.4 exactly, allowed (≥). La +2 ×3 = 6, H reach ±2, 0: not neutral, but valid.
        Assert.True(Screen("La3H2").Valid);
        // La2H1: x_H = 1/3 < 0.4.
        Assert.False(Screen("La2H1").Valid);
    }

    [Fact]
    public void Amounts_round_half_to_even()
    {
        // round(8.5) = 8 and round(9.5) = 10 in Python.
        Assert.Equal("La1H8", Screen("La1H8.5").Formula);
        Assert.Equal("La1H10", Screen("La1H9.5").Formula);
    }

    [Fact]
    public void Element_without_states_fails()
    {
        // He has no SMACT-2014 states: no total for its atom.
        var v = Screen("HeH2");
        Assert.False(v.ChargeNeutral);
        Assert.Equal("NoOxidationStates(He); NotChargeNeutral", v.ReasonCodes);
    }

    [Fact]
    public void Minkowski_sums_equal_brute_force_products()
    {
        // The code enumerates product(states, repeat = n); the DP must reach the same totals.
        foreach (var symbol in new[] { "H", "La", "S", "N", "Mn" })
        {
            var states = Elements.Get(symbol).OxidationStatesSmact14;
            for (int n = 0; n <= 4; n++)
            {
                IEnumerable<int> brute = [0];
                for (int k = 0; k < n; k++) brute = brute.SelectMany(t => states.Select(s => t + s)).Distinct().ToArray();
                Assert.Equal(brute.Order(), HydrideNeutrality.Totals(states, n).Order());
            }
        }
    }
}
