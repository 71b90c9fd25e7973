using Kiago.Chemistry;
using Kiago.Design.Baselines;
using Kiago.Design.Experiments;
using Kiago.Tests.Support;

namespace Kiago.Tests.Eval;

public class CesGeneratorTests
{
    static IReadOnlyList<BaseMaterial> Bases(string file) =>
        BaseMaterialList.ReadJson(SharedData.Path("data", "experiments", "reference_sample_configs", file));

    static readonly CesOptions Small = new() { Samples = 256, Seed = 7 };

    [Fact]
    public void Normal_mode_replaces_one_metal_by_elements_of_one_of_its_common_states()
    {
        var bases = Bases("experiment_usual_dict.json");
        var results = CesGenerator.Generate(bases, Small with { Mode = CesMode.Normal });
        Assert.All(results, r => Assert.Null(r.SkipReason));
        foreach (var result in results)
        {
            var b = result.Base.Composition;
            Assert.Equal(256, result.Samples.Count);
            foreach (var s in result.Samples)
            {
                var where = $"{result.Base.Name} → {s.Composition}";
                Assert.True(s.Replaced.IsSmactMetal, where);
                Assert.Contains(s.OxidationState, s.Replaced.OxidationStatesPymatgenCommon);
                Assert.NotEmpty(s.Substituents);
                Assert.Equal(s.Substituents.Count, s.Substituents.Distinct().Count());
                foreach (var e in s.Substituents)
                {
                    Assert.True(e.Z <= 86, where);
                    Assert.Contains(s.OxidationState, e.OxidationStatesSmact14);
                }
                Assert.True(s.Composition.TotalAtoms < 200, where);
                Assert.True(s.Composition.Count <= 10, where);
                // Every other base element is kept at cells × its amount (plus a share when it was drawn as a substituent).
                Assert.Equal(b.TotalAtoms * s.Cells, s.Composition.TotalAtoms, 9);
                foreach (var e in b.Elements.Where(e => e != s.Replaced))
                {
                    double expected = b[e] * s.Cells;
                    if (s.Substituents.Contains(e)) Assert.True(s.Composition[e] > expected + 0.5, where);
                    else Assert.Equal(expected, s.Composition[e], 9);
                }
                // Substituent atoms are whole numbers and add up to the replaced element's atoms in the supercell.
                double substituted = s.Substituents.Sum(e => s.Composition[e] - (b.Contains(e) && e != s.Replaced ? b[e] * s.Cells : 0));
                Assert.Equal(b[s.Replaced] * s.Cells, substituted, 9);
                if (b.IsIntegral) Assert.True(s.Composition.IsIntegral, where);
            }
        }
    }

    [Fact]
    public void Normal_mode_never_replaces_an_element_without_a_whole_atom_supercell()
    {
        var b = BaseMaterial.FromFormula("Bi2Ca1Cu1.98Fe0.02O8Sr2");
        var result = CesGenerator.Generate(b, 0, Small);
        Assert.Null(result.SkipReason);
        Assert.All(result.Samples, s => Assert.DoesNotContain(s.Replaced.Symbol, new[] { "Cu", "Fe" }));
        Assert.Equal(["Bi", "Ca", "Sr"], result.Samples.Select(s => s.Replaced.Symbol).Distinct().Order());
    }

    [Fact]
    public void Substitution_mode_keeps_the_fixed_part_and_the_target_amount()
    {
        var bases = Bases("experiment_element_substitution_dict.json");
        var results = CesGenerator.Generate(bases, Small with { Mode = CesMode.Substitution });
        foreach (var result in results)
        {
            Assert.Null(result.SkipReason);
            var spec = result.Base.Substitution!;
            foreach (var s in result.Samples)
            {
                var where = $"{result.Base.Name} → {s.Composition.ToFormulaString()}";
                Assert.Equal(1, s.Cells);
                foreach (var e in spec.Remaining.Elements) Assert.Equal(spec.Remaining[e], s.Composition[e]);
                Assert.All(s.Substituents, e => Assert.False(spec.Remaining.Contains(e), where));
                Assert.All(s.Substituents, e => Assert.Contains(spec.OxidationState, e.OxidationStatesSmact14));
                Assert.Equal(spec.Amount, s.Substituents.Sum(e => s.Composition[e]), 9);
                Assert.True(s.Composition.Count <= 10, where);
                Assert.Equal(spec.Remaining.Count + s.Substituents.Count, s.Composition.Count);
                // Shares sit on the 4-decimal grid of the target's amount.
                Assert.All(s.Substituents, e =>
                {
                    double units = s.Composition[e] / spec.Amount * 1e4;
                    Assert.True(Math.Abs(units - Math.Round(units)) < 1e-6, where);
                });
            }
        }
    }

    [Fact]
    public void Hydride_mode_replaces_the_first_non_H_element_within_15_atoms_and_3_elements()
    {
        var bases = Bases("experiment_usual_hsc.json");
        var results = CesGenerator.Generate(bases, Small with { Mode = CesMode.Hydride });
        var th = Assert.Single(results, r => r.Base.Composition.Contains(Elements.Get("Th")));
        Assert.Contains("19 atoms", th.SkipReason);
        Assert.Empty(th.Samples);
        foreach (var result in results.Where(r => !r.Skipped))
        {
            var b = result.Base.Composition;
            var target = b.Elements.First(e => e.Symbol != "H");
            foreach (var s in result.Samples)
            {
                var where = $"{result.Base.Name} → {s.Composition}";
                Assert.Equal(target, s.Replaced);
                Assert.True(s.Composition.TotalAtoms <= 15, where);
                Assert.True(s.Composition.Count <= 3, where);
                Assert.True(s.Composition[Elements.Get("H")] >= b[Elements.Get("H")] * s.Cells, where);
                Assert.True(s.Composition.IsIntegral, where);
                Assert.All(s.Substituents, e => Assert.Contains(s.OxidationState, e.OxidationStatesSmact14));
            }
        }
    }

    [Fact]
    public void Same_seed_gives_the_same_formulas_and_another_seed_does_not()
    {
        var bases = Bases("experiment_usual_dict.json");
        string[] Run(long seed) => [.. CesGenerator.Generate(bases, Small with { Seed = seed })
            .SelectMany(r => r.Samples).Select(s => s.Composition.ToFormulaString())];
        Assert.Equal(Run(11), Run(11));
        Assert.NotEqual(Run(11), Run(12));
    }

    [Fact]
    public void Partition_gives_positive_shares_that_add_up()
    {
        var rng = new CesRandom(3);
        for (int i = 0; i < 500; i++)
        {
            int total = rng.NextInt(1, 60), parts = rng.NextInt(1, 9);
            var shares = CesGenerator.Partition(rng, parts, total);
            Assert.Equal(total, shares.Sum());
            Assert.All(shares, x => Assert.True(x > 0));
            Assert.InRange(shares.Length, 1, parts);
        }
    }

    [Fact]
    public void Supercell_multipliers_follow_the_reference_bounds()
    {
        Assert.Equal([.. Enumerable.Range(1, 11)], CesGenerator.SupercellMultipliers(16, 1, 200)); // ⌊200/16⌋ = 12, exclusive
        Assert.Equal([1], CesGenerator.SupercellMultipliers(11, 10, 15));
        Assert.Equal([5, 10], CesGenerator.SupercellMultipliers(5, 0.2, 55)); // n·0.2 integral and 5n < 55
        Assert.Empty(CesGenerator.SupercellMultipliers(15, 0.02, 200));
    }

    [Fact]
    public void Random_draws_are_uniform_enough_and_choose_is_distinct()
    {
        var rng = new CesRandom(99);
        var counts = new int[5];
        for (int i = 0; i < 50_000; i++) counts[rng.NextInt(0, 5)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
        var picked = rng.Choose(Enumerable.Range(0, 20).ToArray(), 20);
        Assert.Equal(Enumerable.Range(0, 20), picked.Order());
    }
}
