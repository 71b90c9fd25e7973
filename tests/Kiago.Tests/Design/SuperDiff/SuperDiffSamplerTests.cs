using Kiago.Design.Baselines.SuperDiff;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Diffusion;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Graph;
using Kiago.Nets.Weights;
using Kiago.Tests.Nets.Uncertainty;

namespace Kiago.Tests.Design.SuperDiff;

/// <summary>The SuperDiff sampler against closed forms: schedule, DDIM/DDPM with a zero denoiser, ILVR, guidance's gradient.</summary>
public sealed class SuperDiffSamplerTests
{
    const int L = DenoiserLayout.Elements;
    static readonly DiffusionSettings Settings = DiffusionSettings.FromCard(LinearDenoisers.DiffusionCard, "card");

    static double Bar(double u) => Math.Pow(Math.Cos((u + 0.008) / 1.008 * Math.PI / 2), 2);

    [Fact]
    public void The_cosine_schedule_is_improved_diffusions_and_respacing_telescopes_to_the_same_alpha_bar()
    {
        var full = new DiffusionSchedule(Settings, 1000);
        // unclipped betas: ᾱ_t = f((t+1)/T) / f(0)
        for (int t = 0; t < 980; t += 7)
            Assert.Equal(Bar((t + 1) / 1000.0) / Bar(0), full.AlphaBarAtTimestep(t), 1e-9);
        foreach (int steps in new[] { 1000, 250, 50, 7, 2 })
        {
            var s = new DiffusionSchedule(Settings, steps);
            Assert.Equal(0, s.TimestepOf(0));
            Assert.Equal(999, s.TimestepOf(steps - 1));
            double product = 1;
            for (int k = 0; k < steps; k++)
            {
                Assert.InRange(s.Beta(k), 0, 1);
                product *= 1 - s.Beta(k);
            }
            Assert.Equal(full.AlphaBarAtTimestep(999), product, 1e-9 * Math.Max(1, product));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiffusionSchedule(Settings, 1001));
    }

    static SuperDiffSamples Sample(SuperDiffOptions options, float[]? reference = null, WeightModel? model = null, int threads = 1)
    {
        using var backend = new CpuBackend(threads: threads);
        using var denoiser = LinearDenoisers.Load(model ?? LinearDenoisers.Model(), backend);
        return new SuperDiffSampler(denoiser, null).Sample(reference, options);
    }

    [Fact]
    public void Ddim_with_eta_0_and_a_zero_denoiser_scales_x_T_by_one_over_the_root_of_alpha_bar()
    {
        var options = new SuperDiffOptions { Samples = 8, Steps = 40, Sampler = DiffusionSampler.Ddim, IlvrScales = [], Seed = 3 };
        var result = Sample(options);
        double scale = 1 / Math.Sqrt(new DiffusionSchedule(Settings, 40).AlphaBar(39));
        for (int i = 0; i < 8; i++)
            for (int j = 0; j < L; j += 5)
            {
                double start = CounterNoise.Normal(3, i, 0, CounterNoise.Start, j);
                Assert.Equal(start * scale, result.Amounts[i * L + j], Math.Abs(start * scale) * 1e-4 + 1e-6);
            }
    }

    [Fact]
    public void Ddpm_with_a_zero_denoiser_has_the_variance_of_its_recurrence()
    {
        const int steps = 30;
        var s = new DiffusionSchedule(Settings, steps);
        double v = 1;   // Var x_T; each step x ← x/√(1−β) + √β·z (no noise on the last)
        for (int k = steps - 1; k >= 0; k--) v = v / (1 - s.Beta(k)) + (k > 0 ? s.Beta(k) : 0);
        var result = Sample(new SuperDiffOptions { Samples = 2048, Steps = steps, IlvrScales = [], Seed = 11 });
        double mean = result.Amounts.Average(a => (double)a);
        double variance = result.Amounts.Average(a => (a - mean) * (a - mean));
        Assert.InRange(mean / Math.Sqrt(v), -0.01, 0.01);
        Assert.InRange(variance / v, 0.98, 1.02);
    }

    static float[] Reference()
    {
        var y = new float[L];
        y[55] = 2; y[28] = 3; y[7] = 7; y[38] = 1;   // Ba2 Cu3 O7 Y
        return y;
    }

    [Fact]
    public void Ilvr_at_scale_1_ends_on_the_reference_and_at_scale_4_shares_its_low_frequencies()
    {
        var y = Reference();
        var result = Sample(new SuperDiffOptions { Samples = 8, Steps = 25, IlvrScales = [1, 4], Seed = 5 }, y);
        var low = new float[L];
        var lowY = new float[L];
        IlvrFilter.LowPass(y, lowY, 4);
        for (int i = 0; i < 8; i++)
        {
            var row = result.Amounts.AsSpan(i * L, L);
            if (i < 4)
                for (int j = 0; j < L; j++) Assert.Equal(y[j], row[j], 1e-4);
            else
            {
                IlvrFilter.LowPass(row, low, 4);
                // a zero denoiser lets x grow to ~1/√ᾱ_T before the last step: float rounding scales with it
                double size = 0;
                for (int j = 0; j < L; j++) size = Math.Max(size, Math.Abs(row[j]));
                for (int j = 0; j < L; j++) Assert.Equal(lowY[j], low[j], 1e-4 + 1e-6 * size);
                double differs = 0;
                for (int j = 0; j < L; j++) differs = Math.Max(differs, Math.Abs(row[j] - y[j]));
                Assert.True(differs > 0.05, $"sample {i} equals the reference");   // the high frequencies are its own
            }
        }
    }

    [Fact]
    public void The_ilvr_filter_swaps_low_frequencies_and_keeps_the_rest()
    {
        var rng = new Random(2);
        var x = Enumerable.Range(0, L).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = Enumerable.Range(0, L).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (int scale in new[] { 1, 2, 4, 6, 7 })
        {
            var conditioned = (float[])x.Clone();
            IlvrFilter.Condition(conditioned, y, scale);
            float[] lowC = new float[L], lowY = new float[L], lowX = new float[L];
            IlvrFilter.LowPass(conditioned, lowC, scale);
            IlvrFilter.LowPass(y, lowY, scale);
            IlvrFilter.LowPass(x, lowX, scale);
            for (int j = 0; j < L; j++)
            {
                Assert.Equal(lowY[j], lowC[j], 1e-5);
                Assert.Equal(x[j] - lowX[j], conditioned[j] - lowC[j], 1e-5);
            }
        }
    }

    [Fact]
    public void Samples_do_not_depend_on_the_batch_size_or_a_rerun()
    {
        var model = LinearDenoisers.Model(Weights(7));
        var options = new SuperDiffOptions { Samples = 20, Steps = 15, IlvrScales = [2, 6], Seed = 9 };
        var whole = Sample(options, Reference(), model);
        var again = Sample(options, Reference(), model);
        var batched = Sample(options with { BatchSize = 7 }, Reference(), model);
        Assert.Equal(whole.Amounts, again.Amounts);
        Assert.Equal(whole.Amounts, batched.Amounts);
        Assert.Equal(whole.Amounts, Sample(options, Reference(), model, threads: 2).Amounts);
        var otherSeed = Sample(options with { Seed = 10 }, Reference(), model);
        Assert.NotEqual(whole.Amounts, otherSeed.Amounts);
    }

    /// <summary>Small random weights (a contracting linear map plus a timestep term).</summary>
    static float[] Weights(int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, L * DenoiserLayout.InputColumns).Select(i => i % DenoiserLayout.InputColumns == L
            ? (float)(1e-4 * (rng.NextDouble() - 0.5)) : (float)(0.02 * (rng.NextDouble() - 0.5)))];
    }

    [Fact]
    public void The_guidance_gradient_is_the_gradient_of_tc_minus_alpha_ef_through_the_normalisation()
    {
        using var backend = new CpuBackend(threads: 1);
        using var tc = new GraphModel(RandomMembers.Mlp(ModelKind.Fractions, 1), backend);
        using var ef = new GraphModel(RandomMembers.Mlp(ModelKind.Fractions, 2, output: ("ef", "eV/atom")), backend);
        using var guidance = new CompositionGuidance(tc, ef, 4, 2);
        var x = new float[2 * L];
        int[] present = [7, 28, 55, 38, 0];
        for (int b = 0; b < 2; b++)
            foreach (var (j, i) in present.Select((j, i) => (j, i))) x[b * L + j] = 0.5f + i + b;
        x[L + 3] = -0.4f;   // a negative amount: clipped to zero, no gradient
        var g = new float[2 * L];
        var tcValues = new double[2];
        guidance.Gradient(2, x, g, tcValues);
        double Objective(float[] v, int b)
        {
            var t = new double[2];
            guidance.Tc(2, v, t);
            var e = new double[2];
            using var probe = new CompositionGuidance(ef, null, 0, 2);
            probe.Tc(2, v, e);
            return t[b] - 4 * e[b];
        }
        const float h = 1e-2f;
        foreach (int b in new[] { 0, 1 })
            foreach (int j in b == 1 ? present.Append(3) : present)   // x = 0 is the kink of max(x, 0): not differentiated there
            {
                var plus = (float[])x.Clone(); plus[b * L + j] += h;
                var minus = (float[])x.Clone(); minus[b * L + j] -= h;
                double numeric = (Objective(plus, b) - Objective(minus, b)) / (2 * h);
                if (b == 1 && j == 3) { Assert.Equal(0f, g[b * L + j]); continue; }
                Assert.Equal(numeric, g[b * L + j], Math.Abs(numeric) * 0.03 + 2e-3);
            }
    }

    [Fact]
    public void Guidance_moves_the_ddpm_mean_by_w_beta_gradient_and_raises_tc()
    {
        using var backend = new CpuBackend(threads: 1);
        using var tc = new GraphModel(RandomMembers.Mlp(ModelKind.Fractions, 4), backend);
        using var denoiser = LinearDenoisers.Load(LinearDenoisers.Model(), backend);
        var y = Reference();
        var plain = new SuperDiffOptions { Samples = 64, Steps = 20, IlvrScales = [6], Seed = 1 };
        using var guidance = new CompositionGuidance(tc, null, 0, 64);
        var sampler = new SuperDiffSampler(denoiser, guidance);
        var unguided = sampler.Sample(y, plain);
        var guided = sampler.Sample(y, plain with { GuidanceWeight = 0.05 });
        double MeanTc(SuperDiffSamples s)
        {
            var t = new double[64];
            guidance.Tc(64, s.Amounts, t);
            return t.Average();
        }
        Assert.True(MeanTc(guided) > MeanTc(unguided), $"guided {MeanTc(guided)} vs {MeanTc(unguided)}");
        var decomposed = sampler.Sample(y, plain with { GuidanceWeight = 0.05, Decompose = true });
        Assert.Equal(guided.Amounts, decomposed.Amounts);   // tracking Tc does not change the samples
        Assert.Equal(guided.Amounts, sampler.Sample(y, plain with { GuidanceWeight = 0.05 }).Amounts);
        using (var backend2 = new CpuBackend(threads: 2))
        using (var tc2 = new GraphModel(RandomMembers.Mlp(ModelKind.Fractions, 4), backend2))
        using (var denoiser2 = LinearDenoisers.Load(LinearDenoisers.Model(), backend2))
        using (var guidance2 = new CompositionGuidance(tc2, null, 0, 64))
            Assert.Equal(guided.Amounts, new SuperDiffSampler(denoiser2, guidance2).Sample(y, plain with { GuidanceWeight = 0.05 }).Amounts);
        var d = decomposed.Decomposition!;
        Assert.True(d.Guidance > 0, $"guidance ΔTc {d.Guidance}");
        // the parts sum to Tc(x_0) − Tc(x_T), averaged over samples
        var start = new float[64 * L];
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < L; j++) start[i * L + j] = (float)CounterNoise.Normal(1, i, 0, CounterNoise.Start, j);
        var t0 = new double[64];
        guidance.Tc(64, start, t0);
        Assert.Equal(MeanTc(guided) - t0.Average(), d.Sum, 1e-6 * Math.Max(1, Math.Abs(d.Sum)) + 1e-9);
    }

    [Fact]
    public void Thresholding_zeroes_small_and_negative_amounts_and_rounds_to_hundredths()
    {
        var v = new float[L];
        v[55] = 2.004f; v[28] = 0.0149f; v[7] = -3; v[38] = 0.049f;
        Assert.Equal("Cu0.01Y0.05Ba2", SuperDiffThreshold.ToComposition(v, 0.01)!.ToCanonicalString());
        Assert.Equal("Ba2", SuperDiffThreshold.ToComposition(v, 0.05)!.ToCanonicalString());
        Assert.Null(SuperDiffThreshold.ToComposition(v, 3));
        var samples = new SuperDiffSamples(v, 1, null, 0);
        Assert.Throws<Kiago.InputException>(() => SuperDiffThreshold.Choose(samples, [0.01, 0.02], null));
        Assert.Equal(0.02, SuperDiffThreshold.Choose(samples, [0.02], null).Threshold);
    }

    [Fact]
    public void The_threshold_scan_keeps_the_threshold_with_the_best_mean_top_30_tc()
    {
        using var backend = new CpuBackend(threads: 1);
        using var tc = new GraphModel(RandomMembers.Mlp(ModelKind.Fractions, 6), backend);
        var rng = new Random(4);
        var amounts = Enumerable.Range(0, 40 * L).Select(_ => (float)(rng.NextDouble() < 0.1 ? rng.NextDouble() : 0.02 * rng.NextDouble())).ToArray();
        var samples = new SuperDiffSamples(amounts, 40, null, 0);
        double[] thresholds = [0.005, 0.01, 0.015, 0.02];
        var chosen = SuperDiffThreshold.Choose(samples, thresholds, tc);
        Assert.Equal(thresholds.Length, chosen.Scan.Count);
        var best = chosen.Scan.MaxBy(s => s.MeanTop30Tc)!;
        Assert.Equal(best.Threshold, chosen.Threshold);
        var present = Enumerable.Range(0, 40).Select(i => SuperDiffThreshold.ToComposition(amounts.AsSpan(i * L, L), best.Threshold))
            .Where(c => c is not null).Select(c => c!).ToArray();
        var tcs = Kiago.Design.Experiments.ModelPredictions.Predict(tc, present);
        Assert.Equal(tcs.OrderDescending().Take(30).Average(), best.MeanTop30Tc, 1e-9);
    }

    [Fact]
    public void A_denoiser_file_is_checked_for_kind_shapes_and_diffusion_settings()
    {
        using var backend = new CpuBackend(threads: 1);
        var notDenoiser = RandomMembers.Mlp(ModelKind.Fractions, 1);
        var e1 = Assert.Throws<WeightFileException>(() => new DenoiserModel(notDenoiser, Settings, backend, "m.kgw"));
        Assert.Contains("not a denoiser", e1.Message);
        var e2 = Assert.Throws<WeightFileException>(() => DiffusionSettings.FromCard("{\"name\": \"x\"}", "d.kgw"));
        Assert.Contains("d.kgw", e2.Message);
        Assert.Contains("diffusion", e2.Message);
        var e3 = Assert.Throws<WeightFileException>(() => DiffusionSettings.FromCard(LinearDenoisers.DiffusionCard.Replace("cosine\"", "linear\""), "d.kgw"));
        Assert.Contains("schedule", e3.Message);
        var e4 = Assert.Throws<GraphException>(() => new GraphModel(LinearDenoisers.Model(), backend));
        Assert.Contains("baseline superdiff", e4.Message);
        using var denoiser = LinearDenoisers.Load(LinearDenoisers.Model(), backend);
        Assert.Throws<Kiago.InputException>(() => new SuperDiffSampler(denoiser, null).Sample(null, new SuperDiffOptions { Samples = 2, Steps = 3, IlvrScales = [], GuidanceWeight = 1 }));
        Assert.Throws<Kiago.InputException>(() => new SuperDiffSampler(denoiser, null).Sample(null, new SuperDiffOptions { Samples = 2, Steps = 1001, IlvrScales = [] }));
    }
}
