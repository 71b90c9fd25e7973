using Kiago.Chemistry;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Graph;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;
using Kiago.Tests.Design.Support;
using Kiago.Tests.Kernels.Ilgpu;
using Kiago.Tests.Nets.Uncertainty;

namespace Kiago.Tests.Design.Trust;

/// <summary>
/// The κ objective L = −(μ_Tc − κσ_Tc) + α(μ_Ef + κσ_Ef) (<see cref="DesignObjective"/>) on random-weight uncertain
/// models: its input gradient against central finite differences of L per coordinate, per backend (CPU, ILGPU-CPU);
/// κ = 0 is the flagship objective bit for bit; and a whole design run with κ = 0 is identical with or without the
/// uncertainty data attached (only the σ/domain columns differ).
/// </summary>
public abstract class KappaObjectiveTests : IDisposable
{
    protected abstract IBackend Backend { get; }
    public virtual void Dispose() => GC.SuppressFinalize(this);

    const int E = 118;
    static readonly string[] Formulas = ["YBa2Cu3O7", "MgB2", "Nb3Sn", "LaFeAsO"];

    static float[] Compositions()
    {
        var host = new float[Formulas.Length * E];
        for (int b = 0; b < Formulas.Length; b++) Composition.Parse(Formulas[b]).WriteFractions(host.AsSpan(b * E, E));
        return host;
    }

    (UncertainModel Tc, UncertainModel Ef) Models() => (
        UncertainModel.Create(RandomMembers.Mlp(ModelKind.TcResNet, 7, outputScale: 30f, outputBias: 40f),
            RandomMembers.Data(ModelKind.TcResNet, "00", members: 3, flagshipWeight: 0.5f, seed: 300), Backend),
        UncertainModel.Create(RandomMembers.Mlp(ModelKind.ElemNet, 8),
            RandomMembers.Data(ModelKind.ElemNet, "00", members: 3, flagshipWeight: 0.5f, seed: 400), Backend));

    /// <summary>Σ_b L_b at x on host (through ForwardWithSigma), and the objective's gradient at x.</summary>
    (double Loss, double[] Grad) Evaluate(DesignObjective objective, IUncertainCompositionModel tc, IUncertainCompositionModel ef, float[] x, bool gradient)
    {
        int batch = Formulas.Length;
        using var xb = Backend.Allocate<float>(x.Length);
        using var tm = Backend.Allocate<float>(batch); using var ts = Backend.Allocate<float>(batch);
        using var em = Backend.Allocate<float>(batch); using var es = Backend.Allocate<float>(batch);
        using var gx = Backend.Allocate<float>(x.Length);
        Backend.Upload<float>(x, xb);
        Backend.Fill(gx, 0f, x.Length);
        double[] grad = [];
        if (gradient)
        {
            objective.ForwardBackward(batch, xb, tm, ts, em, es, gx, 1f);
            var g = new float[x.Length];
            Backend.Download<float>(gx, g);
            grad = [.. g.Select(v => (double)v)];
        }
        tc.ForwardWithSigma(batch, xb, tm, ts);
        ef.ForwardWithSigma(batch, xb, em, es);
        float[] a = new float[batch], b = new float[batch], c = new float[batch], d = new float[batch];
        Backend.Download<float>(tm, a); Backend.Download<float>(ts, b); Backend.Download<float>(em, c); Backend.Download<float>(es, d);
        double loss = Enumerable.Range(0, batch).Sum(i => objective.Loss(a[i], b[i], c[i], d[i]));
        return (loss, grad);
    }

    [Theory]
    [InlineData(1f, 4f)]
    [InlineData(2.5f, 4f)]
    [InlineData(1f, 0.5f)]
    public void The_kappa_gradient_matches_finite_differences_of_the_objective(float kappa, float alpha)
    {
        var (tc, ef) = Models();
        using var _ = tc; using var __ = ef;
        var objective = new DesignObjective(tc, ef, alpha, kappa, tc, ef);
        Assert.True(objective.PenalisesTcSigma && objective.PenalisesEfSigma);
        var x = Compositions();
        var (_, grad) = Evaluate(objective, tc, ef, x, gradient: true);
        double scale = Math.Max(1e-3, grad.Max(Math.Abs));
        Assert.True(scale > 1e-2, "the gradient should be non-trivial");
        // the members' ReLUs and σ's |·| have kinks; a step that crosses one is not a gradient error, so a coordinate
        // passes when either of two step sizes agrees (a real error shows at both)
        int checkedCoordinates = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] == 0 && i % 13 != 0) continue;
            if (!Kiago.Nets.Featurisers.Featuriser.Layout(ModelKind.ElemNet).Accepted.Contains(i % E + 1) && x[i] == 0) continue;
            double Fd(float h)
            {
                var q = (float[])x.Clone();
                q[i] = x[i] + h;
                double up = Evaluate(objective, tc, ef, q, false).Loss;
                q[i] = x[i] - h;
                return (up - Evaluate(objective, tc, ef, q, false).Loss) / (2 * h);
            }
            double best = new[] { Fd(2e-3f), Fd(5e-4f) }.MinBy(f => Math.Abs(f - grad[i]));
            Assert.True(Math.Abs(best - grad[i]) <= 2e-2 * scale, $"dL/dx[{i}] = {grad[i]}, finite differences {best} (scale {scale})");
            checkedCoordinates++;
        }
        Assert.True(checkedCoordinates > 20);
    }

    [Fact]
    public void Kappa_zero_is_the_flagship_objective_bit_for_bit()
    {
        var (tc, ef) = Models();
        using var _ = tc; using var __ = ef;
        var x = Compositions();
        var plain = new DesignObjective(tc.Flagship, ef.Flagship, 4f, 0f);
        var attached = new DesignObjective(tc.Flagship, ef.Flagship, 4f, 0f, tc, ef);
        Assert.False(attached.PenalisesTcSigma || attached.PenalisesEfSigma);
        Assert.Equal(Evaluate(plain, tc, ef, x, true).Grad, Evaluate(attached, tc, ef, x, true).Grad);
    }
}

public sealed class CpuKappaObjectiveTests : KappaObjectiveTests
{
    readonly CpuBackend backend = new(threads: 2);
    protected override IBackend Backend => backend;
    public override void Dispose() { backend.Dispose(); base.Dispose(); }

    static BaseOutcome Run(IBackend backend, UncertainModel tc, UncertainModel ef, float kappa, bool attach)
    {
        var designer = new BaseDesigner(backend, tc.Flagship, ef.Flagship, new TestScreen())
        {
            TcUncertainty = attach ? tc : null, EfUncertainty = attach ? ef : null,
        };
        var settings = new DesignSettings
        {
            Candidates = 24, Seed = 9, Optimiser = new OptimiserOptions { Steps = 12, TraceEvery = 4, Kappa = kappa },
            Constraints = new DesignConstraints { MaxElements = 4, MaxAtoms = 20 },
        };
        return designer.Run(settings, new DesignBase("YBa2Cu3O7", Composition.Parse("YBa2Cu3O7")), 0);
    }

    static (UncertainModel, UncertainModel) Models(IBackend backend) => (
        UncertainModel.Create(RandomMembers.Mlp(ModelKind.TcResNet, 7, outputScale: 30f, outputBias: 40f),
            RandomMembers.Data(ModelKind.TcResNet, "00", members: 3, flagshipWeight: 0.5f, seed: 300), backend),
        UncertainModel.Create(RandomMembers.Mlp(ModelKind.ElemNet, 8),
            RandomMembers.Data(ModelKind.ElemNet, "00", members: 3, flagshipWeight: 0.5f, seed: 400), backend));

    [Fact]
    public void A_kappa_zero_run_is_identical_with_or_without_uncertainty_and_every_row_gets_sigma_and_domain()
    {
        var (tc, ef) = Models(backend);
        using var _ = tc; using var __ = ef;
        var bare = Run(backend, tc, ef, 0f, attach: false);
        var full = Run(backend, tc, ef, 0f, attach: true);
        Assert.Equal(bare.Rows.Count, full.Rows.Count);
        Assert.Equal(bare.Trace.Select(p => p with { ElapsedSeconds = 0 }), full.Trace.Select(p => p with { ElapsedSeconds = 0 }));
        for (int i = 0; i < bare.Rows.Count; i++)
        {
            var (a, b) = (bare.Rows[i], full.Rows[i]);
            Assert.Equal(a, b with { TcSigma = double.NaN, EfSigma = double.NaN, TcDomain = double.NaN, EfDomain = double.NaN });
            Assert.True(double.IsNaN(a.TcSigma) && double.IsNaN(a.TcDomain));
            if (b.Formula.Length == 0) continue;
            // σ and domain on every row with a formula: σ equals the model's own σ of the normalised formula
            var (mu, sigma) = tc.Predict([Composition.Parse(b.Formula)]);
            Assert.Equal(sigma[0], b.TcSigma, 4);
            Assert.Equal(ef.Predict([Composition.Parse(b.Formula)]).Sigma[0], b.EfSigma, 4);
            Assert.Equal(tc.DomainScores([Composition.Parse(b.Formula)])[0], b.TcDomain, 9);
            Assert.Equal(ef.DomainScores([Composition.Parse(b.Formula)])[0], b.EfDomain, 9);
            Assert.True(b.TcSigma > 0 && b.EfSigma > 0);
        }
    }

    [Fact]
    public void Kappa_changes_the_run_and_lowers_the_mean_sigma_of_the_candidates()
    {
        var (tc, ef) = Models(backend);
        using var _ = tc; using var __ = ef;
        var zero = Run(backend, tc, ef, 0f, attach: true);
        var high = Run(backend, tc, ef, 5f, attach: true);
        double Mean(BaseOutcome o) => o.Rows.Where(r => double.IsFinite(r.TcSigma)).Average(r => r.TcSigma);
        Assert.NotEqual(zero.Rows.Select(r => r.FinalComposition), high.Rows.Select(r => r.FinalComposition));
        Assert.True(Mean(high) < Mean(zero), $"mean σ_Tc κ = 5: {Mean(high)}, κ = 0: {Mean(zero)}");
    }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuKappaObjectiveTests(IlgpuCpuFixture fixture) : KappaObjectiveTests
{
    protected override IBackend Backend => fixture.Backend;
}
