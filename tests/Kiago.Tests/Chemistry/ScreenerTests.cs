using Kiago.Chemistry;
using Kiago.Chemistry.Screening;

namespace Kiago.Tests.Chemistry;

/// <summary>
/// KIAGO screening (kiago-reference.md §7.1) on hand-checked cases. States are SMACT-2014 and χ SMACT's
/// (Appendix A) unless stated; the arithmetic is in each comment.
/// </summary>
public class ScreenerTests
{
    static ScreeningVerdict Screen(string formula, ScreeningOptions? options = null) =>
        Screener.Screen(Composition.Parse(formula), options);

    [Fact]
    public void Cuprate_is_neutral_with_the_first_assignment_in_product_order()
    {
        // Y2Ba4Cu6O13 (from Y1Ba2Cu3O6.5 ×2): 2y + 4·2 + 6c + 13o = 0. With y = 1 or 2, 13o = −(2y + 8 + 6c) is never a
        // multiple of 13; y = 3, c = 2 gives 6 + 8 + 12 = 26 = −13·(−2). Pauling: Y 1.22, Ba 0.89, Cu 1.90 < O 3.44.
        var v = Screen("Y1Ba2Cu3O6.5");
        Assert.True(v.Passed);
        Assert.Equal("Y2Ba4Cu6O13", v.Formula);
        Assert.Equal([3, 2, 2, -2], v.OxidationStates!);
        Assert.Empty(v.Reasons);
    }

    [Fact]
    public void YBa2Cu3O6_95_is_not_neutral_after_limit_denominator()
    {
        // 6.95 = 139/20 → Y20Ba40Cu60O139. O −2: 20y + 80 + 60c = 278 → 20y + 60c = 198, not a multiple of 20.
        // O −1: 20y + 60c = 59, impossible; O positive: every other state is positive too. So no neutral assignment.
        var v = Screen("Y1Ba2Cu3O6.95");
        Assert.Equal("Y20Ba40Cu60O139", v.Formula);
        Assert.True(v.Valid);
        Assert.False(v.ChargeNeutral);
        Assert.False(v.Passed);
        Assert.Equal(ScreeningRule.NotChargeNeutral, Assert.Single(v.Reasons).Rule);
    }

    [Fact]
    public void Salt_passes_on_the_second_neutral_assignment()
    {
        // Na{−1,+1}, Cl{−1,+1…+7}. First neutral: Na −1, Cl +1, but the anion Na (0.93) is less electronegative than the
        // cation Cl (3.16): fail. Next: Na +1, Cl −1: 0.93 < 3.16: pass.
        var v = Screen("NaCl");
        Assert.True(v.Passed);
        Assert.Equal([1, -1], v.OxidationStates!);
    }

    [Fact]
    public void Pauling_failure_names_the_elements()
    {
        // Kr{+2} forces Br to −1 each: 2 + 2·(−1) = 0, the only neutral assignment; cation Kr χ 3.0 ≥ anion Br χ 2.96: fail.
        var v = Screen("KrBr2");
        Assert.True(v.Valid);
        Assert.True(v.ChargeNeutral);
        Assert.False(v.ElectronegativityOk);
        Assert.False(v.Passed);
        var reason = Assert.Single(v.Reasons);
        Assert.Equal((ScreeningRule.Electronegativity, "Kr", "Br"), (reason.Rule, reason.Element, reason.OtherElement));
        Assert.Equal("Electronegativity(Kr,Br)", v.ReasonCodes);
    }

    [Fact]
    public void Equal_electronegativities_fail()
    {
        // C and Se both have χ 2.55. Neutral C + 2s = 0: (s = −2, c = +4), (s = +1, c = −2), (s = +2, c = −4); each pairs
        // a cation and an anion of equal χ, and ties fail.
        var v = Screen("CSe2");
        Assert.True(v.ChargeNeutral);
        Assert.False(v.Passed);
    }

    [Theory]
    [InlineData("Ca")]
    [InlineData("O")]
    [InlineData("Nb2")]
    [InlineData("He")]
    public void Without_the_single_element_shortcut_an_element_alone_fails_and_says_why(string formula)
    {
        var off = Screen(formula, ScreeningOptions.Kiago with { SingleElementShortcut = false });
        Assert.False(off.Passed);
        Assert.False(off.Valid);
        var reason = Assert.Single(off.Reasons);
        Assert.Equal(ScreeningRule.SingleElement, reason.Rule);
        Assert.Contains("alone is an element", reason.Message);
        Assert.True(Screen(formula).Passed); // the published shortcut is unchanged
        // compounds are untouched by the switch
        foreach (var compound in new[] { "NaCl", "YBa2Cu3O7", "Nb3Sn", "CuO8" })
            Assert.Equal(Screen(compound), Screen(compound, ScreeningOptions.Kiago with { SingleElementShortcut = false }), VerdictComparer);
    }

    static readonly IEqualityComparer<ScreeningVerdict> VerdictComparer = EqualityComparer<ScreeningVerdict>.Create(
        (a, b) => a!.Passed == b!.Passed && a.Valid == b.Valid && a.ChargeNeutral == b.ChargeNeutral && a.ReasonCodes == b.ReasonCodes,
        v => v.Passed.GetHashCode());

    [Fact]
    public void All_metal_and_single_element_shortcuts()
    {
        Assert.Equal(ScreeningShortcut.AllMetals, Screen("Nb3Sn").Shortcut);
        Assert.True(Screen("Nb3Sn").Passed);
        // He has no oxidation states but a single element passes before any charge test.
        Assert.Equal(ScreeningShortcut.SingleElement, Screen("He").Shortcut);
        Assert.True(Screen("He").Passed);
        // Pm is not in smact.metals, so PmFe does not take the shortcut; Pm{+2,+3}, Fe: Pm +2, Fe −2 is neutral, and the
        // opposite-sign pair with Pm's missing χ counts as a pass (SMACT's caught TypeError).
        var pmFe = Screen("PmFe");
        Assert.Equal(ScreeningShortcut.None, pmFe.Shortcut);
        Assert.True(pmFe.Passed);
        Assert.Equal([2, -2], pmFe.OxidationStates!);
        // Without the shortcut an alloy is charge-tested: Nb{−1,+1…+5}, Sn{−4,+2,+4}: 3·(+4)... Nb +4 ×3 = 12 ≠ 4;
        // Nb −1 ×3 = −3; needed Sn: 3n + s = 0 → (n = +... ) no combination: 3n = 4 or −2 or −4 never holds.
        Assert.False(Screen("Nb3Sn", ScreeningOptions.Kiago with { AllMetalShortcut = false }).ChargeNeutral);
    }

    [Fact]
    public void MgB2_is_not_neutral_with_smact14_but_Mg3B2_is_with_icsd()
    {
        // SMACT 2014: Mg{+1,+2}, B{+1,+2,+3}: every sum is positive.
        Assert.False(Screen("MgB2").ChargeNeutral);
        Assert.False(Screen("Mg3B2").ChargeNeutral);
        // pymatgen ICSD: Mg{+2}, B{+3,−3}: 3·2 + 2·(−3) = 0, Mg 1.31 < B 2.04.
        var icsd = Screen("Mg3B2", new ScreeningOptions { OxidationStates = OxidationStateTable.PymatgenIcsd });
        Assert.True(icsd.Passed);
        Assert.Equal([2, -3], icsd.OxidationStates!);
    }

    [Fact]
    public void Element_without_states_in_the_table_is_named()
    {
        // Kr has no pymatgen common oxidation state.
        var v = Screen("KrBr2", new ScreeningOptions { OxidationStates = OxidationStateTable.PymatgenCommon });
        Assert.False(v.ChargeNeutral);
        Assert.Equal("NoOxidationStates(Kr); NotChargeNeutral", v.ReasonCodes);
    }

    [Fact]
    public void Element_count_limit_is_inclusive()
    {
        // 9 elements: KIAGO allows count < 9, i.e. at most 8; the baselines allow 9.
        const string nine = "Li1Be1B1C1N1O1F1Na1Mg1";
        var v = Screen(nine);
        Assert.False(v.Valid);
        Assert.Equal(ScreeningRule.TooManyElements, Assert.Single(v.Reasons).Rule);
        Assert.True(Screen(nine, new ScreeningOptions { MaxElements = 9 }).Valid);
    }

    [Fact]
    public void Missing_electronegativity_quirk_depends_on_element_order()
    {
        // Pm{+2,+3} (χ none), Fe, O. Every neutral assignment of Pm·Fe·O3 has Fe positive: Pm+2 Fe+1 O−1 (2 + 1 − 3),
        // Pm+3 Fe+3 O−2 (3 + 3 − 6), … In order Pm, Fe, O the first pair (Pm, Fe) is same-sign with a missing χ: fail.
        var pmFirst = Screen("Pm1Fe1O3");
        Assert.True(pmFirst.ChargeNeutral);
        Assert.False(pmFirst.Passed);
        Assert.Equal("Electronegativity(Pm,Fe)", pmFirst.ReasonCodes);
        // In order O, Pm, Fe the first pair (O −, Pm +) is opposite-sign with a missing χ: Python raises TypeError,
        // which smact_validity catches as a pass.
        Assert.True(Screen("O3Pm1Fe1").Passed);
    }

    [Fact]
    public void Pymatgen_electronegativity_scale_is_selectable()
    {
        // pymatgen gives Pm χ 1.13, so the order quirk disappears: Pm+2 Fe+1 O−1 has cations 1.13, 1.83 < O 3.44.
        var v = Screen("Pm1Fe1O3", new ScreeningOptions { Electronegativity = ElectronegativityScale.Pymatgen });
        Assert.True(v.Passed);
    }

    [Fact]
    public void Screen_many_keeps_order_and_matches_screen()
    {
        var formulas = new[] { "NaCl", "MgB2", "KrBr2", "Nb3Sn", "Y1Ba2Cu3O6.5", "Li1Be1B1C1N1O1F1Na1Mg1" };
        var compositions = Enumerable.Range(0, 300).Select(i => Composition.Parse(formulas[i % formulas.Length])).ToArray();
        var many = Screener.ScreenMany(compositions);
        Assert.Equal(compositions.Length, many.Length);
        for (int i = 0; i < many.Length; i++)
            Assert.Equal(Screener.Screen(compositions[i]).ReasonCodes + Screener.Screen(compositions[i]).Passed, many[i].ReasonCodes + many[i].Passed);
        Assert.Empty(Screener.ScreenMany([]));
    }
}
