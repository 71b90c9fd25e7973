using Kiago.Chemistry;
using Kiago.Design.Constraints;

namespace Kiago.Tests.Design;

public class ConstraintTests
{
    // kiago-reference.md Appendix B: SMACT default states ∩ ElemNet's 86 elements (what M_opt ⊙ M_EN allows)
    const string Plus3 = "B C N Al Si P S Cl Sc Ti V Cr Mn Fe Co Ni Cu Ga Ge As Br Y Zr Nb Mo Tc Ru Rh Ag In Sb I La Ce Pr Nd Pm Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Tl Bi Ac Th Pa U Np Pu";
    const string Plus1 = "H Li Be B C N O Na Mg Al Si P S Cl K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As Se Br Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In I Xe Cs Gd Tb W Re Os Ir Pt Au Hg Tl Bi";

    static HashSet<string> Allowed(ResolvedConstraints r) =>
        Enumerable.Range(0, Elements.Count).Where(i => r.Allowed[i] != 0f).Select(i => Elements.ByZ(i + 1).Symbol).ToHashSet();

    [Fact]
    public void Substitution_mask_matches_the_reference_appendix_minus_the_fixed_elements()
    {
        var r = new DesignConstraints { Substitution = new SubstitutionTarget("La") }.Resolve(Composition.Parse("LaFeAsO"));
        Assert.Equal(3, r.SubstitutionOxidationState);
        var expected = Plus3.Split(' ').Except(["Fe", "As"]).ToHashSet();
        Assert.Equal(expected.Order(), Allowed(r).Order());
        Assert.Equal(0.25f, r.Fixed[Elements.Get("Fe").Index]);
        Assert.Equal(0.25f, r.Fixed[Elements.Get("O").Index]);
        Assert.Equal(0f, r.Fixed[Elements.Get("La").Index]);

        var hg = new DesignConstraints { Substitution = new SubstitutionTarget("Hg", 1) }.Resolve(Composition.Parse("Ba2Ca2Cu3HgO8"));
        Assert.Equal(Plus1.Split(' ').Except(["Ba", "Ca", "Cu", "O"]).Order(), Allowed(hg).Order());
    }

    [Fact]
    public void Default_mask_is_elemnets_86_elements_and_the_n_set_is_inclusive()
    {
        var r = new DesignConstraints { MaxAtoms = 14, Minimum = new Dictionary<string, double> { ["H"] = 0.4 }, MaxElements = 2 }
            .Resolve(Composition.Parse("LaH10"));
        var allowed = Allowed(r);
        Assert.Equal(86, allowed.Count);
        Assert.Contains("Pu", allowed);
        Assert.DoesNotContain("At", allowed);
        Assert.DoesNotContain("He", allowed);
        Assert.Equal(Enumerable.Range(1, 14), r.NSet);
        Assert.Equal(0.4f, r.Fixed[0]);
    }
}
