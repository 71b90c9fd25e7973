using Kiago.Chemistry;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;
using Kiago.Tests.Kernels.Ilgpu;

namespace Kiago.Tests.Nets.Uncertainty;

/// <summary>
/// μ, σ and dx of <see cref="UncertainModel"/> on random-weight members, per backend: σ against a host recomputation
/// from the members' own outputs, and the joint gradient meanScale·∂μ/∂x + sigmaScale·∂σ/∂x against central finite
/// differences of the model's own forward along random directions and per coordinate.
/// </summary>
public abstract class UncertainModelGradientTests : IDisposable
{
    protected abstract IBackend Backend { get; }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    const int Batch = 3;
    static readonly string[] Formulas = ["YBa2Cu3O7", "MgB2", "Nb3Sn"];

    float[] Compositions()
    {
        var host = new float[Batch * 118];
        for (int b = 0; b < Batch; b++) Composition.Parse(Formulas[b]).WriteFractions(host.AsSpan(b * 118, 118));
        return host;
    }

    (float[] Mean, float[] Sigma) Forward(UncertainModel model, float[] x)
    {
        using var xb = Backend.Allocate<float>(x.Length);
        using var mb = Backend.Allocate<float>(Batch);
        using var sb = Backend.Allocate<float>(Batch);
        Backend.Upload<float>(x, xb);
        model.ForwardWithSigma(Batch, xb, mb, sb);
        var m = new float[Batch];
        var s = new float[Batch];
        Backend.Download<float>(mb, m);
        Backend.Download<float>(sb, s);
        return (m, s);
    }

    [Theory]
    [InlineData(ModelKind.ElemNet)]
    [InlineData(ModelKind.TcResNet)]
    public void Sigma_is_the_calibrated_mean_absolute_deviation_of_the_members(ModelKind kind)
    {
        var flagship = RandomMembers.Mlp(kind, 1);
        var data = RandomMembers.Data(kind, "00", members: 3, flagshipWeight: 0.4f);
        using var model = UncertainModel.Create(flagship, data, Backend);
        var x = Compositions();
        var (mean, sigma) = Forward(model, x);

        var outputs = new List<float[]>();
        foreach (var m in new[] { flagship }.Concat(data.Members))
        {
            using var net = new GraphModel(m, Backend);
            using var xb = Backend.Allocate<float>(x.Length);
            using var yb = Backend.Allocate<float>(Batch);
            Backend.Upload<float>(x, xb);
            net.Forward(Batch, xb, yb);
            var y = new float[Batch];
            Backend.Download<float>(yb, y);
            outputs.Add(y);
        }
        var w = data.Head.MeanWeights;
        for (int b = 0; b < Batch; b++)
        {
            double mu = Enumerable.Range(0, w.Length).Sum(j => w[j] * (double)outputs[j][b]);
            double mad = Enumerable.Range(0, w.Length).Average(j => Math.Abs(outputs[j][b] - mu));
            double expected = data.Head.SigmaScale * (mad + data.Head.SigmaFloor + data.Head.LevelWeight * Math.Abs(mu - data.Head.LevelCenter));
            Assert.True(Math.Abs(mean[b] - mu) <= 1e-5 * (1 + Math.Abs(mu)), $"{Formulas[b]}: μ {mean[b]} vs {mu}");
            Assert.True(Math.Abs(sigma[b] - expected) <= 1e-5 * (1 + expected), $"{Formulas[b]}: σ {sigma[b]} vs {expected}");
            Assert.True(mad > 1e-3, $"{Formulas[b]}: the random members should disagree (MAD {mad})");
        }
    }

    [Theory]
    [InlineData(ModelKind.ElemNet, 1f, -0.7f, null)]
    [InlineData(ModelKind.TcResNet, 1f, -0.7f, null)]
    [InlineData(ModelKind.ElemNet, 0f, 2f, null)]
    [InlineData(ModelKind.TcResNet, 0.5f, 0f, null)]
    [InlineData(ModelKind.TcResNet, 1f, -0.7f, ModelKind.Fractions)] // members on the 118 fractions beside an image flagship
    [InlineData(ModelKind.Fractions, 1f, -0.7f, ModelKind.ElemNet)]
    public void Joint_gradient_matches_finite_differences(ModelKind kind, float meanScale, float sigmaScale, ModelKind? memberKind)
    {
        var flagship = RandomMembers.Mlp(kind, 2);
        var data = RandomMembers.Data(kind, "00", members: 4, flagshipWeight: 0.6f, seed: 200, memberKind: memberKind);
        using var model = UncertainModel.Create(flagship, data, Backend);
        var x = Compositions();
        using var xb = Backend.Allocate<float>(x.Length);
        using var mb = Backend.Allocate<float>(Batch);
        using var sb = Backend.Allocate<float>(Batch);
        using var dxb = Backend.Allocate<float>(x.Length);
        Backend.Upload<float>(x, xb);
        var prior = Enumerable.Range(0, x.Length).Select(i => 0.01f * (i % 7)).ToArray();
        Backend.Upload<float>(prior, dxb); // accumulates: the prior content must stay
        model.ForwardBackwardWithSigma(Batch, xb, mb, sb, dxb, meanScale, sigmaScale);
        var dx = new float[x.Length];
        Backend.Download<float>(dxb, dx);
        var grad = dx.Select((v, i) => (double)v - prior[i]).ToArray();
        var (m0, s0) = Forward(model, x);
        var (mf, sf) = (new float[Batch], new float[Batch]);
        Backend.Download<float>(mb, mf);
        Backend.Download<float>(sb, sf);
        Assert.Equal(m0, mf);
        Assert.Equal(s0, sf);

        double Objective(float[] at)
        {
            var (m, s) = Forward(model, at);
            return Enumerable.Range(0, Batch).Sum(b => meanScale * (double)m[b] + sigmaScale * (double)s[b]);
        }
        double scale = Math.Max(1e-3, grad.Max(Math.Abs));
        Assert.True(grad.Max(Math.Abs) > 1e-3, "the gradient should be non-trivial");
        // per coordinate, on the elements present (other fractions are 0; the derivative there is as valid, but these matter)
        // small: members on the raw fractions put ReLU kinks within 1e-3 of a zero fraction (h = 2e-3 and 5e-4 straddle one)
        const float h = 1e-4f;
        for (int i = 0; i < x.Length; i++)
        {
            if (x[i] == 0 && i % 17 != 0) continue;
            if (kind == ModelKind.ElemNet && !Featuriser.Layout(kind).Accepted.Contains(i % 118 + 1))
            {
                Assert.Equal(0, grad[i]);
                continue;
            }
            var p = (float[])x.Clone();
            p[i] = x[i] + h;
            double plus = Objective(p);
            p[i] = x[i] - h;
            double minus = Objective(p);
            double fd = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(fd - grad[i]) <= 2e-2 * scale, $"dx[{i}] = {grad[i]}, finite differences {fd} (scale {scale})");
        }
    }

    [Fact]
    public void Risk_adjusted_model_is_mu_minus_kappa_sigma_with_that_gradient()
    {
        var flagship = RandomMembers.Mlp(ModelKind.TcResNet, 4);
        var data = RandomMembers.Data(ModelKind.TcResNet, "00", members: 2, flagshipWeight: 0.5f, seed: 300);
        using var model = UncertainModel.Create(flagship, data, Backend);
        using var risk = new RiskAdjustedModel(model, 1.5f);
        var x = Compositions();
        using var xb = Backend.Allocate<float>(x.Length);
        using var yb = Backend.Allocate<float>(Batch);
        using var mb = Backend.Allocate<float>(Batch);
        using var sb = Backend.Allocate<float>(Batch);
        using var d1 = Backend.Allocate<float>(x.Length);
        using var d2 = Backend.Allocate<float>(x.Length);
        Backend.Upload<float>(x, xb);
        Backend.Fill(d1, 0f, x.Length);
        Backend.Fill(d2, 0f, x.Length);
        risk.ForwardBackward(Batch, xb, yb, d1, 0.5f);
        model.ForwardBackwardWithSigma(Batch, xb, mb, sb, d2, 0.5f, -0.75f);
        float[] y = new float[Batch], m = new float[Batch], s = new float[Batch], g1 = new float[x.Length], g2 = new float[x.Length];
        Backend.Download<float>(yb, y); Backend.Download<float>(mb, m); Backend.Download<float>(sb, s);
        Backend.Download<float>(d1, g1); Backend.Download<float>(d2, g2);
        for (int b = 0; b < Batch; b++) Assert.Equal(m[b] - 1.5f * s[b], y[b], 5);
        Assert.Equal(g2, g1);
        Assert.True(g1.Max(Math.Abs) > 1e-3);
        risk.Forward(Batch, xb, yb);
        var yf = new float[Batch];
        Backend.Download<float>(yb, yf);
        Assert.Equal(y, yf);
    }

    [Fact]
    public void Without_uncertainty_data_mu_is_the_flagship_bit_for_bit_and_sigma_is_nan()
    {
        var flagship = RandomMembers.Mlp(ModelKind.TcResNet, 3);
        using var alone = UncertainModel.Create(flagship, null, Backend);
        using var net = new GraphModel(flagship, Backend);
        var x = Compositions();
        var (mean, sigma) = Forward(alone, x);
        using var xb = Backend.Allocate<float>(x.Length);
        using var yb = Backend.Allocate<float>(Batch);
        Backend.Upload<float>(x, xb);
        net.Forward(Batch, xb, yb);
        var y = new float[Batch];
        Backend.Download<float>(yb, y);
        Assert.Equal(y, mean);
        Assert.All(sigma, s => Assert.True(float.IsNaN(s)));
        Assert.False(alone.HasUncertainty);
        Assert.All(alone.DomainScores([Composition.Parse("Og")]), d => Assert.True(double.IsNaN(d)));

        // with members but all weight on the flagship, μ is still the flagship's output exactly
        using var weighted = UncertainModel.Create(flagship, RandomMembers.Data(ModelKind.TcResNet, "00", flagshipWeight: 1f), Backend);
        Assert.Equal(y, Forward(weighted, x).Mean);
    }
}

public sealed class CpuUncertainModelGradientTests : UncertainModelGradientTests
{
    readonly CpuBackend backend = new(threads: 2);
    protected override IBackend Backend => backend;
    public override void Dispose() { backend.Dispose(); base.Dispose(); }
}

[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuUncertainModelGradientTests(IlgpuCpuFixture fixture) : UncertainModelGradientTests
{
    protected override IBackend Backend => fixture.Backend;
}
