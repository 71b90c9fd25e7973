using Kiago.Kernels.Composition;
using Kiago.Design.Experiments;
using Kiago.Kernels.Cpu;
using Kiago.Tests.Design.Support;
using Kiago.Tests.Support;

namespace Kiago.Tests.Eval;

public sealed class ExperimentRunnerTests : IDisposable
{
    readonly CpuBackend backend = new(threads: 2);
    readonly MlpTestModel tc, ef;
    readonly ExperimentRunner runner;

    public ExperimentRunnerTests()
    {
        tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        ef = new MlpTestModel(backend, 202, outputScale: 2f, outputBias: -0.5f, name: "ef", unit: "eV/atom");
        runner = new ExperimentRunner(backend, tc, ef);
    }

    public void Dispose()
    {
        tc.Dispose();
        ef.Dispose();
        backend.Dispose();
    }

    static IReadOnlyList<BaseMaterial> Bases(string file, int count) =>
        [.. BaseMaterialList.ReadJson(SharedData.Path("data", "experiments", "reference_sample_configs", file)).Take(count)];

    static readonly ExperimentOptions Tiny = new() { Candidates = 16, Steps = 6, CesSamples = 40, Seed = 1 };

    [Fact]
    public void Normal_experiment_runs_both_methods_and_writes_table_2_and_table_1()
    {
        var result = runner.Run(Bases("experiment_usual_dict.json", 2), Tiny with { IntegerisationMaxAtoms = [15, 100] });
        Assert.Equal(2, result.Bases.Count);
        Assert.All(result.Bases, b =>
        {
            Assert.Null(b.KiagoError);
            Assert.Equal(16, b.Kiago!.Rows.Count);
            Assert.Equal(40, b.Ces!.Rows.Count);
        });
        Assert.Equal([15, 100], result.Integerisation.Select(r => r.MaxAtoms));
        Assert.All(result.Integerisation, r => Assert.True(r.Samples > 0 && double.IsFinite(r.RuleBasedMeanDeltaTc) && double.IsFinite(r.IntegerLossMeanDeltaTc)));
        var md = ExperimentTables.Markdown(result, "test machine");
        Assert.Contains("paper Table 2", md);
        Assert.Contains("| Ba2Ca2Cu3Hg1O8 |", md);
        Assert.Contains("17.07 / -12.11", md); // the paper's HgBa2Ca2Cu3O8 row sits beside ours
        Assert.Contains("Table 1", md);
        Assert.Contains("Target (KIAGO above C-ES on every base)", md);
    }

    [Fact]
    public void Substitution_and_hydride_experiments_write_their_tables()
    {
        var es = runner.Run(Bases("experiment_element_substitution_dict.json", 1), Tiny with { Kind = ExperimentKind.Substitution });
        Assert.NotNull(es.Bases[0].Kiago);
        var md = ExperimentTables.Markdown(es, "test");
        Assert.Contains("paper Table 5", md);
        Assert.Contains("| Bi+3 |", md.Replace("| Bi2Ca1Cu2O8Sr2 ", ""));

        var hsc = runner.Run(Bases("experiment_usual_hsc.json", 3), Tiny with { Kind = ExperimentKind.Hydride });
        Assert.Contains("19 atoms", hsc.Bases[2].CesSkip); // Th4H15: above the baseline's 15-atom limit
        Assert.All(hsc.Bases[0].Kiago!.Rows.Where(r => r.Formula.Length > 0), r => Assert.Contains("H", r.Formula));
        md = ExperimentTables.Markdown(hsc, "test");
        Assert.Contains("paper Table 9", md);
        Assert.Contains("C-ES skipped H15Th4", md);
    }
}
