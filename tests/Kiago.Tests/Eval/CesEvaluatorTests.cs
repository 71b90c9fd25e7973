using Kiago.Chemistry;
using Kiago.Chemistry.Screening;
using Kiago.Design.Baselines;
using Kiago.Design.Experiments;
using Kiago.Kernels.Cpu;
using Kiago.Tests.Design.Support;
using Kiago.Tests.Support;

namespace Kiago.Tests.Eval;

public sealed class CesEvaluatorTests : IDisposable
{
    readonly CpuBackend backend = new(threads: 2);
    readonly MlpTestModel tc, ef;

    public CesEvaluatorTests()
    {
        tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        ef = new MlpTestModel(backend, 202, outputScale: 2f, outputBias: -0.5f, name: "ef", unit: "eV/atom");
    }

    public void Dispose()
    {
        tc.Dispose();
        ef.Dispose();
        backend.Dispose();
    }

    static BaseMaterial Config(string file, int index) =>
        BaseMaterialList.ReadJson(SharedData.Path("data", "experiments", "reference_sample_configs", file))[index];

    [Fact]
    public void Normal_rows_carry_the_screening_predictions_and_summary_of_the_optimiser()
    {
        var material = BaseMaterial.FromFormula("LaNiAsO");
        var generated = CesGenerator.Generate(material, 0, new CesOptions { Samples = 200, Seed = 5 });
        var outcome = new CesEvaluator(tc, ef).Evaluate(generated, 0, CesMode.Normal);
        var rows = outcome.Rows;
        Assert.Equal(200, rows.Count);
        Assert.Equal(Enumerable.Range(1, 200), rows.Select(r => r.Rank));
        Assert.True(rows.Zip(rows.Skip(1)).All(p => p.First.TcRounded >= p.Second.TcRounded), "rows sorted by Tc, descending");
        Assert.Equal(rows.Select(r => Composition.Parse(r.Formula).ToCanonicalString()).Distinct().Count(), rows.Count(r => r.Unique));

        var predicted = ModelPredictions.Predict(tc, [.. rows.Select(r => Composition.Parse(r.Formula))]);
        foreach (var (row, i) in rows.Select((r, i) => (r, i)))
        {
            Assert.Equal(predicted[i], row.TcRounded, 4);
            var verdict = Screener.Screen(Composition.Parse(row.Formula), new ScreeningOptions { MaxElements = 9 });
            Assert.Equal(verdict.Valid, row.Valid);
            Assert.Equal(verdict.ChargeNeutral, row.Neutral);
            Assert.Equal(row.Valid && row.Neutral && row.Electronegativity && row.EfNegative, row.AllPass);
            Assert.Equal(row.EfRounded < 0, row.EfNegative);
        }
        var s = outcome.Summary;
        Assert.Equal(ModelPredictions.Predict(tc, [material.Composition])[0], s.BaseTc, 4);
        var passing = rows.Where(r => r.Unique && r.AllPass).Select(r => r.TcRounded - s.BaseTc).OrderByDescending(d => d).ToList();
        Assert.NotEmpty(passing);
        Assert.Equal(passing.Take(30).Average(), s.DeltaTcTop30, 9);
        Assert.Equal((double)rows.Count(r => r.Unique && r.AllPass) / s.Unique, s.AllPassRate, 12);
    }

    [Fact]
    public void Substitution_rows_all_keep_the_fixed_part()
    {
        var material = Config("experiment_element_substitution_dict.json", 4); // AsFeLaO, La(+3)
        var generated = CesGenerator.Generate(material, 4, new CesOptions { Mode = CesMode.Substitution, Samples = 100 });
        var outcome = new CesEvaluator(tc, ef).Evaluate(generated, 4, CesMode.Substitution);
        Assert.All(outcome.Rows, r => Assert.DoesNotContain("fixed part", r.Reasons));
        Assert.Equal(1.0, ExperimentTables.SuccessRate(outcome.Rows, material.Substitution!));
        Assert.Equal("La+3", outcome.Summary.Substitution);
    }

    [Fact]
    public void Hydride_rows_meet_the_table_10_criteria_and_use_the_hydride_check()
    {
        var material = Config("experiment_usual_hsc.json", 0); // PdH
        var generated = CesGenerator.Generate(material, 0, new CesOptions { Mode = CesMode.Hydride, Samples = 100 });
        var outcome = new CesEvaluator(tc, ef).Evaluate(generated, 0, CesMode.Hydride);
        Assert.Equal(1.0, ExperimentTables.CriteriaRate(outcome.Rows));
        foreach (var r in outcome.Rows)
            Assert.Equal(Screener.ScreenHydride(Composition.Parse(r.Formula)).ChargeNeutral, r.Neutral);
    }

    [Fact]
    public void Without_models_predictions_are_NaN_and_nothing_passes()
    {
        var generated = CesGenerator.Generate(BaseMaterial.FromFormula("MgB2"), 0, new CesOptions { Samples = 20 });
        var outcome = new CesEvaluator(null, null).Evaluate(generated, 0, CesMode.Normal);
        Assert.All(outcome.Rows, r => Assert.True(double.IsNaN(r.TcRounded) && !r.AllPass && r.Reasons.Contains("no Ef model")));
        Assert.True(double.IsNaN(outcome.Summary.DeltaTcTop30));
    }
}
