using Kiago.Kernels.Cpu;
using Kiago.Kernels.Composition;
using Kiago.Design.Initialisers;
using Kiago.Design.Optimiser;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design;

public class OptimiserTests
{
    const int E = 118;

    static (OptimiserResult Result, float BaseTc, CompositionSpec Spec) RunOnce(int candidates, int steps, int k, float fixedH = 0f)
    {
        using var backend = new CpuBackend();
        using var tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
        using var ef = new MlpTestModel(backend, 202, outputScale: 2f, name: "ef", unit: "eV/atom");
        var allowed = new float[E];
        for (int e = 0; e < 86; e++) allowed[e] = 1f;
        var fixedPart = new float[E];
        fixedPart[0] = fixedH;
        var spec = new CompositionSpec(allowed, fixedPart, Enumerable.Range(1, 24));
        using var kernel = new CompositionKernelCpu(spec);
        var baseX = new double[E];
        baseX[38] = 1; baseX[55] = 2; baseX[28] = 3; baseX[7] = 7; // YBa2Cu3O7
        var theta = Initialiser.Draw(new ReferenceInitialiser(), baseX, allowed, default, candidates, DesignRandom.ForStream(7, 0, "init"));
        var options = new OptimiserOptions { Steps = steps, MaxElements = k, TraceEvery = 5 };
        using var opt = new DesignOptimiser(backend, kernel, tc, ef, options, candidates);
        var result = opt.Run(theta);
        // the base's own prediction
        var bx = backend.Allocate<float>(E); var by = backend.Allocate<float>(1);
        backend.Upload<float>(baseX.Select(v => (float)(v / 13)).ToArray(), bx);
        tc.Forward(1, bx, by);
        var baseTc = new float[1]; backend.Download(by, baseTc.AsSpan());
        return (result, baseTc[0], spec);
    }

    [Fact]
    public void Optimisation_raises_predicted_Tc_and_keeps_the_invariants()
    {
        var (r, baseTc, spec) = RunOnce(64, 60, k: 4, fixedH: 0.1f);
        Assert.True(r.FinalTc.Max() > baseTc + 1f, $"best Tc {r.FinalTc.Max()} not above base {baseTc}");
        Assert.True(r.Trace[^1].MeanTc > r.Trace[0].MeanTc, "mean Tc did not rise");
        for (int b = 0; b < r.Candidates; b++)
        {
            Assert.Equal(0, r.Flags[b]);
            var row = r.FinalX.AsSpan(b * E, E);
            double sum = 0; int nonZero = 0;
            for (int e = 0; e < E; e++)
            {
                sum += row[e];
                if (row[e] != 0f) nonZero++;
                if (spec.Allowed[e] == 0f) Assert.Equal(0f, row[e]);
            }
            Assert.True(Math.Abs(sum - 1) < 1e-5);
            Assert.True(row[0] >= 0.1f - 1e-6f, "fixed H fraction lost");
            // the top-k mask acts on θ; a fixed element below the threshold still appears through c (reference §5.4)
            int freeNonZero = nonZero - (row[0] != 0f ? 1 : 0);
            Assert.True(freeNonZero <= 4, $"candidate {b} has {freeNonZero} non-fixed elements after stage 2");
            Assert.InRange(r.FinalN[b], 1, 24);
        }
        Assert.Contains(r.Trace, p => p.Stage == 2 && p.IntegerWeight > 0);
    }

    [Fact]
    public void Same_seed_gives_identical_results()
    {
        var a = RunOnce(40, 12, k: 3).Result;
        var b = RunOnce(40, 12, k: 3).Result;
        Assert.Equal(a.FinalX, b.FinalX);
        Assert.Equal(a.Stage1X, b.Stage1X);
        Assert.Equal(a.FinalTc, b.FinalTc);
        Assert.Equal(a.FinalN, b.FinalN);
    }

    [Fact]
    public void Integer_weight_follows_the_published_ramp_and_the_paper_constant()
    {
        var published = new OptimiserOptions();
        Assert.Equal(0f, published.IntegerWeightAt(499));
        Assert.Equal(200f, published.IntegerWeightAt(500));
        Assert.Equal(1e5f, published.IntegerWeightAt(999));
        var paper = published with { IntegerSchedule = IntegerWeightSchedule.Constant, IntegerWeight = 1 };
        Assert.Equal(0f, paper.IntegerWeightAt(10));
        Assert.Equal(1f, paper.IntegerWeightAt(700));
    }
}
