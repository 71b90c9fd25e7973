using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.Design;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Uncertainty;

namespace Kiago.Bench;

/// <summary>
/// <c>uncertainty-step [--candidates 1024] [--steps 10] [--repeats 2] [--kappa 1] [--mode both|plain|sigma|parts] [--threads N] [--tc F] [--ef F]</c>:
/// the whole optimiser step (<see cref="WholeStepBenchmark"/>, the code behind <c>kiago optimise --benchmark</c>)
/// with the flagship predictors alone and with μ − κσ of both ensembles (flagship + .kgu members, σ on the tape),
/// alternated plain/σ per repeat so both see the same machine load. One line per run plus the ratio of the medians.
/// </summary>
public static class UncertaintyStep
{
    public static int Run(string[] args)
    {
        int candidates = 1024, steps = 10, repeats = 2, threads = 0;
        float kappa = 1;
        string mode = "both", tcPath = "weights/tc-resnet18.kgw", efPath = "weights/elemnet.kgw";
        VerbOptions.Parse(args, new Dictionary<string, Action<string>>
        {
            ["--candidates"] = v => candidates = VerbOptions.Int(v), ["--steps"] = v => steps = VerbOptions.Int(v),
            ["--repeats"] = v => repeats = VerbOptions.Int(v), ["--kappa"] = v => kappa = float.Parse(v, CultureInfo.InvariantCulture),
            ["--mode"] = v => mode = v, ["--threads"] = v => threads = VerbOptions.Int(v), ["--tc"] = v => tcPath = v, ["--ef"] = v => efPath = v,
        });
        using var backend = threads > 0 ? new CpuBackend(threads) : new CpuBackend();
        using var tc = UncertainModel.Load(tcPath, backend, Console.Error.WriteLine);
        using var ef = UncertainModel.Load(efPath, backend, Console.Error.WriteLine);
        using var tcRisk = new RiskAdjustedModel(tc, kappa);
        using var efRisk = new RiskAdjustedModel(ef, kappa);
        Console.Error.WriteLine($"tc: {tc.MemberCount} members, ef: {ef.MemberCount} members; kappa {kappa}");
        if (mode == "parts")
        {
            Parts("tc", tc, candidates, backend);
            Parts("ef", ef, candidates, backend);
            return 0;
        }
        var settings = new DesignSettings { Candidates = candidates, Optimiser = new Kiago.Design.Optimiser.OptimiserOptions { Steps = steps } };
        var b = new DesignBase("YBa2Cu3O7", Composition.Parse("YBa2Cu3O7"));
        var plain = new List<double>();
        var sigma = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            if (mode is "both" or "plain")
                plain.Add(Time("plain (flagships, mu only)", WholeStepBenchmark.Run(backend, tc.Flagship, ef.Flagship, settings, b, Console.Error)));
            if (mode is "both" or "sigma")
                sigma.Add(Time($"sigma (mu - {kappa} sigma, both ensembles)", WholeStepBenchmark.Run(backend, tcRisk, efRisk, settings, b, Console.Error)));
        }
        if (plain.Count > 0 && sigma.Count > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ratio sigma/plain (median ms_per_step): {Median(sigma) / Median(plain):0.###} ({Median(sigma):0.#} / {Median(plain):0.#} ms)"));
        return 0;
    }

    /// <summary>One model's forward + input backward at the batch size: flagship alone vs μ and σ of the ensemble (best of 5 after 2 warm-ups).</summary>
    static void Parts(string name, UncertainModel model, int batch, IBackend backend)
    {
        var rng = new Random(1);
        var host = new float[batch * 118];
        for (int b = 0; b < batch; b++)
        {
            var z = Enumerable.Range(0, 4).Select(_ => rng.Next(1, 84)).ToArray();
            foreach (int e in z) host[b * 118 + e - 1] += 0.25f;
        }
        using var x = backend.Allocate<float>(host.Length);
        using var y = backend.Allocate<float>(batch);
        using var s = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(host.Length);
        backend.Upload<float>(host, x);
        double Best(Action a)
        {
            a(); a();
            double best = double.MaxValue;
            for (int i = 0; i < 5; i++)
            {
                var t = System.Diagnostics.Stopwatch.StartNew();
                a();
                backend.Synchronize();
                best = Math.Min(best, t.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        double plain = Best(() => model.Flagship.ForwardBackward(batch, x, y, dx, 1f));
        double sigma = Best(() => model.ForwardBackwardWithSigma(batch, x, y, s, dx, 1f, -1f));
        double fwd = Best(() => model.Flagship.Forward(batch, x, y));
        double fwdSigma = Best(() => model.ForwardWithSigma(batch, x, y, s));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name} batch {batch}: flagship fwd+bwd {plain:0.0} ms, ensemble mu+sigma fwd+bwd {sigma:0.0} ms ({sigma / plain:0.00}x); forward {fwd:0.0} vs {fwdSigma:0.0} ms; {model.MemberCount} members"));
    }

    static double Time(string label, string line)
    {
        Console.WriteLine($"{label}: {line}");
        var field = line.Split(' ').First(f => f.StartsWith("ms_per_step=", StringComparison.Ordinal));
        return double.Parse(field["ms_per_step=".Length..], CultureInfo.InvariantCulture);
    }

    static double Median(List<double> v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }
}
