using System.Globalization;
using Kiago.Chemistry;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels.Cpu;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design;

/// <summary>The element-substitution output formula (reference integerize_atom_dict, §7.1 step 1) and a small run.</summary>
public sealed class SubstitutionFormulaTests
{
    const int E = 118;

    static double[] Amounts(params (string Symbol, double Amount)[] terms)
    {
        var v = new double[E];
        foreach (var (s, a) in terms) v[Elements.Get(s).Index] = a;
        return v;
    }

    static readonly Composition FeAsO = Composition.Parse("FeAsO");

    [Fact]
    public void LaFeAsO_at_N7_keeps_the_fixed_part_where_plain_rounding_does_not()
    {
        // x = Y 0.2, Nd 0.05, Fe = As = O = 0.25 at N* = 7: x·N = Y 1.4, Nd 0.35, Fe/As/O 1.75.
        // Plain rounding: Y1 Fe2 As2 O2 (Nd → 0): Fe = 2/7 = 0.2857 ≠ 0.25, and La's site holds 1 of 7 atoms, not 1 of 4.
        // integerize: scale = 1 / 1.75 (O, the last fixed atom) → Y 0.8, Nd 0.2 (Σ = 1 = val) → Y0.8Nd0.2Fe1As1O1.
        var x = new float[E];
        x[Elements.Get("Y").Index] = 0.2f; x[Elements.Get("Nd").Index] = 0.05f;
        foreach (var s in new[] { "Fe", "As", "O" }) x[Elements.Get(s).Index] = 0.25f;
        Assert.Equal("O2Fe2As2Y1", BaseDesigner.RoundAt(x, 7)!.ToComposition().ToCanonicalString());
        var f = BaseDesigner.SubstitutionAt(x, 7, FeAsO, 1)!;
        Assert.Equal("Y0.8Nd0.2Fe1As1O1", f.ToFormulaString());
    }

    [Fact]
    public void Single_scaling_divides_by_the_sum_and_the_reference_quirk_squares_the_ratio()
    {
        // Fe = As = O = 1 (scale 1), Y 0.3, Nd 0.9: Σ_sub = 1.2, val = 1.
        var a = Amounts(("Fe", 1), ("As", 1), ("O", 1), ("Y", 0.3), ("Nd", 0.9));
        // single: × 1/1.2 → Y 0.25, Nd absorbs 1 − 0.25 = 0.75
        Assert.Equal("Y0.25Nd0.75Fe1As1O1", SubstitutionFormula.Integerize(a, FeAsO, 1)!.ToFormulaString());
        // reference: ratio = 1 − (1.2 − 1)/1 = 0.8; Y × 0.8² = 0.3 × 0.64 = 0.192; Nd absorbs 1 − 0.192 = 0.808
        Assert.Equal("Y0.192Nd0.808Fe1As1O1",
            SubstitutionFormula.Integerize(a, FeAsO, 1, SubstitutionScaling.ReferenceDouble)!.ToFormulaString());
    }

    [Fact]
    public void Four_decimals_with_the_last_absorbing_the_remainder_and_val_above_one()
    {
        // Ba2CuO3, Ba substituted (val = 2, fixed Cu1 O3): Cu 0.5, O 1.5 → scale = 3 / 1.5 = 2 (Cu 0.5·2 = 1 ✓).
        // Mg 1/6, Ca 1/3, Sr 1/2 → ×2 = 1/3, 2/3, 1 (Σ = 2 = val). Rounded: Mg 0.3333, Ca 0.6667; Sr = 2 − 1.0000 = 1.
        var a = Amounts(("Cu", 0.5), ("O", 1.5), ("Mg", 1.0 / 6), ("Ca", 1.0 / 3), ("Sr", 0.5));
        var f = SubstitutionFormula.Integerize(a, Composition.Parse("CuO3"), 2)!;
        Assert.Equal("Mg0.3333Ca0.6667Sr1Cu1O3", f.ToFormulaString());
    }

    [Fact]
    public void A_last_substituent_pushed_below_zero_hands_the_remainder_to_the_largest()
    {
        // Sc 0.33336, Y 0.33336, Nd 0.33326, Gd 0.00002 (Σ = 1): rounded Sc 0.3334, Y 0.3334, Nd 0.3333 (Σ 1.0001),
        // so the last (Gd) would be 1 − 1.0001 = −0.0001 and the reference drops it, leaving Σ_sub = 1.0001.
        // Here Gd is dropped and the largest (Sc, first of the tie) takes 1 − 0.3334 − 0.3333 = 0.3333.
        var a = Amounts(("Fe", 1), ("As", 1), ("O", 1), ("Sc", 0.33336), ("Y", 0.33336), ("Nd", 0.33326), ("Gd", 0.00002));
        var f = SubstitutionFormula.Integerize(a, FeAsO, 1)!;
        Assert.Equal("Sc0.3333Y0.3334Nd0.3333Fe1As1O1", f.ToFormulaString());
    }

    [Fact]
    public void Degenerate_inputs_give_null_and_a_broken_fixed_part_throws()
    {
        Assert.Null(SubstitutionFormula.Integerize(Amounts(("Fe", 1), ("As", 1), ("O", 1)), FeAsO, 1));
        Assert.Null(SubstitutionFormula.Integerize(Amounts(("Fe", 1), ("As", 1), ("Y", 1)), FeAsO, 1)); // O (last fixed) is 0
        // As 1.01 after the O-based rescaling (scale 1): off by 0.01 > 1e-3 — the reference asserts here
        var e = Assert.Throws<InvalidOperationException>(() =>
            SubstitutionFormula.Integerize(Amounts(("Fe", 1), ("As", 1.01), ("O", 1), ("Y", 1)), FeAsO, 1));
        Assert.Contains("As", e.Message);
    }

    [Fact]
    public void The_screen_takes_the_decimal_formula()
    {
        // Y0.4Nd0.6Fe1As1O1 → limit_denominator → Y2Nd3Fe5As5O5: 2·3 + 3·3 + 5·2 − 5·3 − 5·2 = 0 (neutral)
        var v = new ChemistryScreen().Screen(Composition.Parse("Y0.4Nd0.6Fe1As1O1"));
        Assert.True(v.Valid);
        Assert.True(v.Neutral);
    }

    [Theory]
    [InlineData("LaFeAsO", "La")]
    [InlineData("Ba2CuO3", "Ba")]
    public void Every_row_of_a_small_substitute_run_keeps_the_fixed_part_and_sums_to_val(string baseFormula, string target)
    {
        using var backend = new CpuBackend();
        using var tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        using var ef = new MlpTestModel(backend, 202, outputScale: 2f, name: "ef", unit: "eV/atom");
        var designer = new BaseDesigner(backend, tc, ef, new TestScreen());
        var settings = new DesignSettings
        {
            Candidates = 32, Seed = 5,
            Optimiser = new OptimiserOptions { Steps = 12, TraceEvery = 4 },
            Constraints = new DesignConstraints { MinAtoms = 4, MaxAtoms = 199 },
        };
        var b = Composition.Parse(baseFormula);
        var t = Elements.Get(target);
        var outcome = designer.Run(settings, new DesignBase(baseFormula, b, new SubstitutionTarget(target)), 0);

        var withFormula = outcome.Rows.Where(r => r.Formula.Length > 0).ToList();
        Assert.NotEmpty(withFormula);
        var fractions = new List<float>();
        foreach (var r in withFormula)
        {
            var f = Composition.Parse(r.Formula);
            foreach (var el in b.Elements.Where(el => el != t)) Assert.Equal(b[el], f[el]); // exact
            var subs = f.Elements.Where(el => !b.Contains(el) || el == t).ToList();
            Assert.NotEmpty(subs);
            Assert.True(Math.Abs(subs.Sum(el => f[el]) - b[t]) < 1e-9, $"Σ substituents ≠ {b[t]}: {r.Formula}");
            foreach (var el in subs)
            {
                Assert.True(f[el] > 0, r.Formula);
                Assert.Equal(Math.Round(f[el], 4), f[el], 12); // 4 decimals
            }
            Assert.Equal(f.Count, r.Elements);
            var x = new float[E];
            f.WriteFractions(x); // normalised
            fractions.AddRange(x);
        }

        // Tc/Ef "rounded" are the models on the normalised formula
        int n = withFormula.Count;
        using var xb = backend.Allocate<float>((long)n * E);
        using var yb = backend.Allocate<float>(n);
        backend.Upload<float>(fractions.ToArray(), xb);
        tc.Forward(n, xb, yb);
        var tcs = new float[n];
        backend.Download(yb, tcs.AsSpan());
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(tcs[i] - withFormula[i].TcRounded) < 1e-4 * Math.Max(1, Math.Abs(tcs[i])),
                string.Create(CultureInfo.InvariantCulture, $"{withFormula[i].Formula}: {withFormula[i].TcRounded} vs {tcs[i]}"));
    }
}
