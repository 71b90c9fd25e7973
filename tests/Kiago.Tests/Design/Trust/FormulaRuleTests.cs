using System.Numerics;
using Kiago.Chemistry;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Novelty;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels.Cpu;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design.Trust;

/// <summary>
/// Row-level promises of issue 12, checked on EVERY row of real (small) optimiser runs: --fix fixes, --max caps, the
/// practical rules (gcd-reduced, ≤ max atoms after rounding), the published rounding unchanged, novelty columns equal
/// a brute-force scan, --novel-only drops every known row.
/// </summary>
public sealed class FormulaRuleTests
{
    static BaseOutcome Run(DesignConstraints constraints, FormulaRules? rules = null, string baseFormula = "YBa2Cu3O7",
        NoveltySearch? novelty = null, bool novelOnly = false, int candidates = 48, int steps = 24)
    {
        using var backend = new CpuBackend();
        using var tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        using var ef = new MlpTestModel(backend, 202, outputScale: 2f, name: "ef", unit: "eV/atom");
        var designer = new BaseDesigner(backend, tc, ef, new TestScreen()) { Novelty = novelty };
        var settings = new DesignSettings
        {
            Candidates = candidates, Seed = 5, Optimiser = new OptimiserOptions { Steps = steps, TraceEvery = 8 },
            Constraints = constraints, Formula = rules ?? new FormulaRules(), NovelOnly = novelOnly,
        };
        return designer.Run(settings, new DesignBase(baseFormula, Composition.Parse(baseFormula)), 0);
    }

    static IEnumerable<(CandidateRow Row, Composition Formula)> Formulas(BaseOutcome o)
    {
        var rows = o.Rows.Where(r => r.Formula.Length > 0).ToList();
        Assert.NotEmpty(rows);
        return rows.Select(r => (r, Composition.Parse(r.Formula)));
    }

    [Theory]
    [InlineData("O", 0.5)]
    [InlineData("Cu", 0.2)]
    [InlineData("Ba", 0.125)]
    public void Fix_holds_in_every_final_formula_within_its_rounding(string symbol, double fraction)
    {
        var el = Elements.Get(symbol);
        var o = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 40, Fixed = new Dictionary<string, double> { [symbol] = fraction } });
        foreach (var (row, f) in Formulas(o))
        {
            double total = f.TotalAtoms;
            Assert.True(f[el] >= 1, $"{row.Formula}: {symbol} missing");
            Assert.True(Math.Abs(f[el] - fraction * total) <= 0.5 + 1e-9, $"{row.Formula}: n_{symbol} = {f[el]}, {fraction}·{total} = {fraction * total}");
            // the continuous composition has exactly the fixed fraction (El is outside the optimised set)
            Assert.Equal(fraction, Composition.Parse(row.FinalComposition).Normalise()[el], 5);
        }
    }

    [Fact]
    public void Two_fixed_elements_hold_together_in_every_row()
    {
        var o = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 40, Fixed = new Dictionary<string, double> { ["O"] = 0.4, ["Cu"] = 0.2 } });
        foreach (var (row, f) in Formulas(o))
            foreach (var (s, frac) in new[] { ("O", 0.4), ("Cu", 0.2) })
                Assert.True(Math.Abs(f[Elements.Get(s)] - frac * f.TotalAtoms) <= 0.5 + 1e-9, $"{row.Formula}: {s}");
    }

    [Theory]
    [InlineData("O", 0.3)]
    [InlineData("Ba", 0.1)]
    public void Max_holds_in_every_final_formula(string symbol, double fraction)
    {
        var el = Elements.Get(symbol);
        var o = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 40, Maximum = new Dictionary<string, double> { [symbol] = fraction } });
        foreach (var (row, f) in Formulas(o))
            Assert.True(f[el] <= fraction * f.TotalAtoms + 1e-9, $"{row.Formula}: n_{symbol} = {f[el]} > {fraction}·{f.TotalAtoms}");
    }

    [Fact]
    public void Min_keeps_the_floor_on_the_continuous_composition_of_every_row()
    {
        var o = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 40, Minimum = new Dictionary<string, double> { ["O"] = 0.5 } });
        foreach (var row in o.Rows.Where(r => !r.Degenerate))
            Assert.True(Composition.Parse(row.FinalComposition).Normalise()[Elements.Get("O")] >= 0.5 - 1e-5, row.FinalComposition);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(25)]
    [InlineData(30)]
    public void Practical_rules_give_reduced_formulas_of_at_most_max_atoms_in_every_row(int maxAtoms)
    {
        var o = Run(new DesignConstraints { MaxElements = 6, MaxAtoms = maxAtoms }, new FormulaRules { Reduce = true, MaxAtoms = maxAtoms });
        foreach (var (row, f) in Formulas(o))
        {
            Assert.True(f.TotalAtoms <= maxAtoms, $"{row.Formula}: {f.TotalAtoms} atoms > {maxAtoms}");
            Assert.Equal(f.TotalAtoms, row.FormulaAtoms);
            var gcd = f.Amounts.Aggregate(BigInteger.Zero, (g, a) => BigInteger.GreatestCommonDivisor(g, (long)a));
            Assert.True(gcd == 1, $"{row.Formula} is not reduced (gcd {gcd})");
        }
    }

    [Fact]
    public void The_atom_bound_holds_where_plain_rounding_overshoots()
    {
        // same run without the bound: rounding at N* can give more atoms than the N-set's maximum (the paper-mode 26 > 25)
        var loose = Run(new DesignConstraints { MaxElements = 8, MaxAtoms = 25 }, candidates: 96);
        var bounded = Run(new DesignConstraints { MaxElements = 8, MaxAtoms = 25 }, new FormulaRules { MaxAtoms = 25 }, candidates: 96);
        Assert.Contains(Formulas(loose), p => p.Formula.TotalAtoms > 25);
        foreach (var (row, f) in Formulas(bounded)) Assert.True(f.TotalAtoms <= 25, row.Formula);
        // rows the bound did not touch are the published rounding, byte for byte
        var byCandidate = loose.Rows.ToDictionary(r => r.Candidate);
        foreach (var row in bounded.Rows.Where(r => r.Formula.Length > 0 && r.N == byCandidate[r.Candidate].N))
            Assert.Equal(byCandidate[row.Candidate].Formula, row.Formula);
    }

    [Fact]
    public void Published_rules_are_plain_rounding_at_n_star_in_every_row()
    {
        var o = Run(new DesignConstraints { MaxElements = 5, MaxAtoms = 60 });
        foreach (var row in o.Rows.Where(r => !r.Degenerate))
        {
            var x = Composition.Parse(row.FinalComposition).ToFractionVector().Select(v => (float)v).ToArray();
            // FinalComposition is printed to 6 decimals; the printed formula must be round(x·N*) of that x or agree
            // in atom count with N* rounding: check the counts are within ½ of x·N for every element
            var f = Composition.Parse(row.Formula);
            foreach (var el in f.Elements) Assert.True(Math.Abs(f[el] - x[el.Index] * row.N) <= 0.5 + 1e-3, $"{row.Formula} at N = {row.N}");
        }
    }

    [Fact]
    public void Novelty_columns_equal_a_brute_force_scan_in_every_row_and_novel_only_drops_every_known_row()
    {
        // a list holding some of the run's own formulas, so both verdicts occur
        var first = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 20 }, new FormulaRules { Reduce = true, MaxAtoms = 20 });
        var listed = first.Rows.Where(r => r.Formula.Length > 0).Select(r => r.Formula).Distinct().Where((_, i) => i % 2 == 0)
            .Concat(["YBa2Cu3O7", "MgB2", "La2CuO4", "BaCuO2"])
            .Select((f, i) => (f, Composition.Parse(f), i % 4 == 0 ? double.NaN : 10.0 + i)).ToList();
        var known = KnownCompositions.FromEntries(listed, "test");
        var search = new NoveltySearch(known);
        var o = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 20 }, new FormulaRules { Reduce = true, MaxAtoms = 20 }, novelty: search);
        int knownRows = 0;
        foreach (var (row, f) in Formulas(o))
        {
            var (index, distance) = NoveltySearchTests.BruteForce(known, f);
            bool exact = known.Find(KnownCompositions.KeyOf(f)) is not null;
            Assert.Equal(exact, row.Novelty.Known);
            Assert.Equal(distance, row.Novelty.Distance, 9);
            var entry = known.Entries.Single(e => e.Formula == row.Novelty.NearestFormula);
            Assert.Equal(entry.TcKelvin, row.Novelty.NearestTcKelvin);
            if (exact) knownRows++;
        }
        Assert.True(knownRows > 0);
        Assert.Equal(o.Rows.Count(r => r.Unique && r.AllPass && r.Formula.Length > 0 && !r.Novelty.Known), o.Summary.NovelAllPass);

        var novel = Run(new DesignConstraints { MaxElements = 4, MaxAtoms = 20 }, new FormulaRules { Reduce = true, MaxAtoms = 20 }, novelty: search, novelOnly: true);
        Assert.All(novel.Rows, r => Assert.False(r.Novelty.Known, r.Formula));
        Assert.Equal(o.Rows.Count - knownRows, novel.Rows.Count);
        Assert.Equal(o.Summary, novel.Summary with { Seconds = o.Summary.Seconds });
    }
}
