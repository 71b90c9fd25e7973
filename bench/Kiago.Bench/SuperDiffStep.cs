using System.Diagnostics;
using System.Globalization;
using Kiago.Design.Baselines.SuperDiff;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Diffusion;
using Kiago.Nets.Featurisers;

namespace Kiago.Bench;

/// <summary>
/// <c>superdiff-step [--samples 4096] [--steps 20] [--threads 2] [--denoiser F]</c>: the parts of one SuperDiff sampling
/// step at the batch size — the denoiser forward (per-sample time embedding, and once for the batch as the sampler
/// runs it), the step's normals (DDPM z and ILVR ε'), and whole sampler steps
/// (ILVR scale 4) — each the median ms over <c>--steps</c> repeats after two warm-ups.
/// </summary>
public static class SuperDiffStep
{
    public static int Run(string[] args)
    {
        int samples = 4096, steps = 20, threads = 2;
        string path = "weights/superdiff-denoiser.kgw";
        VerbOptions.Parse(args, new Dictionary<string, Action<string>>
        {
            ["--samples"] = v => samples = VerbOptions.Int(v), ["--steps"] = v => steps = VerbOptions.Int(v),
            ["--threads"] = v => threads = VerbOptions.Int(v), ["--denoiser"] = v => path = v,
        });
        using var backend = new CpuBackend(threads);
        using var denoiser = DenoiserModel.Load(path, backend);
        const int L = DenoiserLayout.Elements, In = DenoiserLayout.InputColumns;
        var rng = new Random(1);
        var host = new float[samples * In];
        for (int b = 0; b < samples; b++)
        {
            for (int j = 0; j < L; j++) host[b * In + j] = (float)(rng.NextDouble() * 2 - 1);
            host[b * In + L] = 500;
        }
        using var input = backend.Allocate<float>(host.Length);
        using var output = backend.Allocate<float>((long)samples * L);
        backend.Upload<float>(host, input);
        Report("denoiser forward", steps, () => denoiser.Predict(samples, input, output));
        Report("denoiser forward, time embedding once", steps, () => denoiser.PredictAtOneTimestep(samples, input, output));
        var noise = new float[samples * L];
        Report("step normals (z and ILVR eps')", steps, () => Parallel.For(0, samples, new ParallelOptions { MaxDegreeOfParallelism = threads }, b =>
        {
            CounterNoise.Fill(1, b, 7, CounterNoise.Denoise, noise.AsSpan(b * L, L));
            CounterNoise.Fill(1, b, 7, CounterNoise.Reference, noise.AsSpan(b * L, L));
        }));
        var reference = new float[L];
        reference[0] = 1;
        var sampler = new SuperDiffSampler(denoiser, null);
        var options = new SuperDiffOptions { Samples = samples, Steps = steps, IlvrScales = [4], Thresholds = [0.05] };
        sampler.Sample(reference, options with { Steps = 2 });
        var run = sampler.Sample(reference, options);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"whole sampler step: {run.Seconds * 1000 / steps:0.00} ms ({steps} steps, ILVR 4)"));
        return 0;
    }

    static void Report(string name, int repeats, Action action)
    {
        action();
        action();
        var ms = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            ms.Add(clock.Elapsed.TotalMilliseconds);
        }
        ms.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {ms[ms.Count / 2]:0.00} ms (median of {repeats})"));
    }
}
