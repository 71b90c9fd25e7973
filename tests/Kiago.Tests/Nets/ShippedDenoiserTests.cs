using Kiago.Chemistry;
using Kiago.Design.Baselines.SuperDiff;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Diffusion;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

/// <summary>The shipped SuperDiff denoiser: it loads, and it removes noise from known superconductors' vectors.</summary>
public class ShippedDenoiserTests
{
    [Theory]
    [InlineData(100)]
    [InlineData(400)]
    [InlineData(800)]
    public void The_denoiser_predicts_the_noise_of_noised_supercon_vectors_better_than_zero(int t)
    {
        using var backend = new CpuBackend(threads: 2);
        using var denoiser = DenoiserModel.Load(Path.Combine(SharedData.RepoRoot, "weights", "superdiff-denoiser.kgw"), backend);
        Assert.Equal(1000, denoiser.Settings.Timesteps);
        var schedule = new DiffusionSchedule(denoiser.Settings, denoiser.Settings.Timesteps);
        string[] formulas = ["YBa2Cu3O7", "MgB2", "Nb3Sn", "LaFeAsO0.9F0.1", "Bi2Sr2CaCu2O8", "NbN", "Ba0.6K0.4Fe2As2", "Nb"];
        double ab = schedule.AlphaBarAtTimestep(t);
        var input = new float[formulas.Length * 97];
        var noise = new double[formulas.Length * 96];
        for (int i = 0; i < formulas.Length; i++)
        {
            var c = Composition.Parse(formulas[i]);
            for (int j = 0; j < 96; j++)
            {
                double eps = CounterNoise.Normal(7, i, t, 0, j);
                noise[i * 96 + j] = eps;
                double x0 = c.Elements.FirstOrDefault(e => e.Z == j + 1) is { } el ? c[el] : 0;
                input[i * 97 + j] = (float)(Math.Sqrt(ab) * x0 + Math.Sqrt(1 - ab) * eps);
            }
            input[i * 97 + 96] = t;
        }
        using var x = backend.Allocate<float>(input.Length);
        using var y = backend.Allocate<float>(noise.Length);
        backend.Upload<float>(input, x);
        denoiser.Predict(formulas.Length, x, y);
        var predicted = new float[noise.Length];
        backend.Download(y, predicted);
        double error = predicted.Select((p, k) => (p - noise[k]) * (p - noise[k])).Average();
        double zero = noise.Average(e => e * e);
        Assert.True(error < 0.5 * zero, $"t = {t}: mean squared error {error:F3} against {zero:F3} for predicting no noise");
        // as the sampler runs it, the time embedding computed once for the batch: the same prediction
        using var once = backend.Allocate<float>(noise.Length);
        denoiser.PredictAtOneTimestep(formulas.Length, x, once);
        var shared = new float[noise.Length];
        backend.Download(once, shared);
        for (int k = 0; k < shared.Length; k++)
            Assert.True(Math.Abs(shared[k] - predicted[k]) <= 1e-5f * (1 + Math.Abs(predicted[k])), $"ε[{k}]: {shared[k]} with the embedding once, {predicted[k]} per sample");
    }
}
