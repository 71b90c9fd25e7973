using System.Diagnostics;
using Kiago.Nets.Diffusion;
using Kiago.Nets.Featurisers;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>Mean Tc change per sample summed over all steps, by the part of the step that made it (paper Table 4).</summary>
public sealed record TcDecomposition(double Denoise, double Ilvr, double Guidance)
{
    public double Sum => Denoise + Ilvr + Guidance;
}

/// <summary>Final vectors x_0 [Samples, 96] (amounts of H…Cm), the decomposition when asked for, and the wall time.</summary>
public sealed record SuperDiffSamples(float[] Amounts, int Samples, TcDecomposition? Decomposition, double Seconds);

/// <summary>
/// SuperDiff's sampler on the engine: x_T ~ N(0, I), then for each step k (τ_k → τ_{k−1}) the denoiser's ε, the
/// DDPM mean (x − β/√(1−ᾱ)·ε)/√(1−β) plus √β·z (no noise on the last step; SuperDiff's variance β), or a DDIM step;
/// classifier guidance moves the DDPM mean by w·β·∇(Tc − α·Ef) (guided-diffusion's variance-scaled gradient; for
/// DDIM ε − √(1−ᾱ)·w·∇); ILVR then replaces the low frequencies of x by those of the reference noised to τ_{k−1}:
/// y = √ᾱ_{k−1}·y_0 + √(1−ᾱ_{k−1})·ε'. The denoiser runs on its backend for a batch of samples at once; the update is
/// per-sample host arithmetic with noise addressed by sample and step (<see cref="CounterNoise"/>), so results do not
/// depend on the batch size or thread count.
/// </summary>
public sealed class SuperDiffSampler(DenoiserModel denoiser, CompositionGuidance? guidance)
{
    const int L = DenoiserLayout.Elements, In = DenoiserLayout.InputColumns;

    /// <summary>Per-batch host buffers: ε, the guidance gradient, and (decomposition) x after each part of a step.</summary>
    sealed class StepBuffers(int batch, bool decompose)
    {
        public readonly float[] Noise = new float[batch * L];
        public readonly float[] Gradient = new float[batch * L];
        public readonly float[] Denoised = decompose ? new float[batch * L] : [];
        public readonly float[] Guided = decompose ? new float[batch * L] : [];
    }

    /// <summary>
    /// Samples <see cref="SuperDiffOptions.Samples"/> vectors conditioned (ILVR) on <paramref name="reference"/> (96
    /// amounts; null with no ILVR scales). <paramref name="progress"/> receives (steps done, steps in all).
    /// </summary>
    public SuperDiffSamples Sample(float[]? reference, SuperDiffOptions options, Action<long, long>? progress = null)
    {
        options.Validate(denoiser.Settings.Timesteps);
        if (options.IlvrScales.Count > 0 && (reference is null || reference.Length != L))
            throw new ArgumentException($"ILVR needs a reference vector of {L} amounts");
        bool guided = options.GuidanceWeight > 0;
        if ((guided || options.Decompose) && guidance is null)
            throw new InputException(guided ? "--guidance needs a Tc model (--tc-model): the guidance is its input gradient"
                : "--decompose needs a Tc model (--tc-model): it tracks Tc through the steps");
        var schedule = new DiffusionSchedule(denoiser.Settings, options.Steps);
        var clock = Stopwatch.StartNew();
        int n = options.Samples, batch = Math.Min(options.BatchSize, n);
        var result = new float[(long)n * L];
        var backend = denoiser.Backend;
        using var input = backend.Allocate<float>((long)batch * In);
        using var output = backend.Allocate<float>((long)batch * L);
        var buffers = new StepBuffers(batch, options.Decompose);
        var hostInput = new float[batch * In];
        double[] tcNow = new double[batch], tcDenoised = new double[batch], tcGuided = new double[batch];
        double sumDenoise = 0, sumIlvr = 0, sumGuide = 0;
        long done = 0, total = (long)schedule.Steps * ((n + batch - 1) / batch);
        for (int start = 0; start < n; start += batch)
        {
            int m = Math.Min(batch, n - start), first = start;
            var block = new ArraySegment<float>(result, start * L, m * L);
            Parallel.For(0, m, b => CounterNoise.Fill(options.Seed, first + b, 0, CounterNoise.Start, block.AsSpan(b * L, L)));
            if (options.Decompose && !guided) guidance!.Tc(m, block, tcNow);
            for (int k = schedule.Steps - 1; k >= 0; k--)
            {
                int t = schedule.TimestepOf(k);
                for (int b = 0; b < m; b++)
                {
                    block.AsSpan(b * L, L).CopyTo(hostInput.AsSpan(b * In, L));
                    hostInput[b * In + L] = t;
                }
                backend.Upload<float>(hostInput.AsSpan(0, m * In), input);
                denoiser.PredictAtOneTimestep(m, input, output);
                backend.Download(output, buffers.Noise.AsSpan(0, m * L));
                if (guided) guidance!.Gradient(m, block, buffers.Gradient, tcNow);
                StepBlock(block, m, first, k, schedule, options, reference, buffers);
                if (options.Decompose)
                {
                    // the step in its parts: the unguided update, the guidance shift, then ILVR; each part's Tc change
                    var g = guidance!;
                    g.Tc(m, buffers.Denoised.AsSpan(0, m * L), tcDenoised);
                    if (guided) g.Tc(m, buffers.Guided.AsSpan(0, m * L), tcGuided);
                    else Array.Copy(tcDenoised, tcGuided, m);
                    for (int b = 0; b < m; b++)
                    {
                        sumDenoise += tcDenoised[b] - tcNow[b];
                        sumGuide += tcGuided[b] - tcDenoised[b];
                    }
                    g.Tc(m, block, tcNow);   // Tc of x_{τ_{k−1}}: after ILVR, and the next step's start
                    for (int b = 0; b < m; b++) sumIlvr += tcNow[b] - tcGuided[b];
                }
                progress?.Invoke(++done, total);
            }
        }
        var decomposition = options.Decompose ? new TcDecomposition(sumDenoise / n, sumIlvr / n, sumGuide / n) : null;
        return new SuperDiffSamples(result, n, decomposition, clock.Elapsed.TotalSeconds);
    }

    /// <summary>One step τ_k → τ_{k−1} for the rows of <paramref name="block"/> (global sample indices from <paramref name="first"/>).</summary>
    static void StepBlock(ArraySegment<float> block, int m, int first, int k, DiffusionSchedule schedule, SuperDiffOptions o,
        float[]? reference, StepBuffers buffers)
    {
        double ab = schedule.AlphaBar(k), abPrev = schedule.AlphaBarPrevious(k), beta = schedule.Beta(k);
        double w = o.GuidanceWeight;
        bool guided = w > 0, decompose = o.Decompose, ddpm = o.Sampler == DiffusionSampler.Ddpm;
        double sigma = ddpm ? Math.Sqrt(beta) : o.DdimEta * Math.Sqrt((1 - abPrev) / (1 - ab) * (1 - ab / abPrev));
        double noiseCoefficient = beta / Math.Sqrt(1 - ab), meanScale = 1 / Math.Sqrt(1 - beta), guideCoefficient = Math.Sqrt(1 - ab) * w;
        double a = Math.Sqrt(abPrev), c = Math.Sqrt(1 - abPrev);
        Parallel.For(0, m, b =>
        {
            var row = block.AsSpan(b * L, L);
            var e = buffers.Noise.AsSpan(b * L, L);
            var grad = buffers.Gradient.AsSpan(b * L, L);
            long sample = first + b;
            Span<float> noise = stackalloc float[L];
            if (k > 0 && sigma > 0) CounterNoise.Fill(o.Seed, sample, k, CounterNoise.Denoise, noise);
            else noise.Clear();
            for (int j = 0; j < L; j++)
            {
                double x = row[j], eps = e[j], z = noise[j];
                double plain, next;
                if (ddpm)
                {
                    plain = (x - noiseCoefficient * eps) * meanScale + sigma * z;
                    next = guided ? plain + w * beta * grad[j] : plain;
                }
                else
                {
                    plain = Ddim(x, eps, ab, abPrev, sigma, z);
                    next = guided ? Ddim(x, eps - guideCoefficient * grad[j], ab, abPrev, sigma, z) : plain;
                }
                if (decompose)
                {
                    buffers.Denoised[b * L + j] = (float)plain;
                    buffers.Guided[b * L + j] = (float)next;
                }
                row[j] = (float)next;
            }
            int scale = o.ScaleOf((int)sample);
            if (scale > 0)
            {
                Span<float> y = stackalloc float[L];
                if (c > 0) CounterNoise.Fill(o.Seed, sample, k, CounterNoise.Reference, noise);
                else noise.Clear();
                for (int j = 0; j < L; j++) y[j] = (float)(a * reference![j] + c * noise[j]);
                IlvrFilter.Condition(row, y, scale);
            }
        });
    }

    static double Ddim(double x, double eps, double ab, double abPrev, double sigma, double z)
    {
        double x0 = (x - Math.Sqrt(1 - ab) * eps) / Math.Sqrt(ab);
        return Math.Sqrt(abPrev) * x0 + Math.Sqrt(Math.Max(0, 1 - abPrev - sigma * sigma)) * eps + sigma * z;
    }
}
