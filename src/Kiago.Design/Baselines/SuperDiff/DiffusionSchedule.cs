using Kiago.Nets.Diffusion;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>
/// The noise schedule of a denoiser and the sampling steps taken through it. ᾱ(t) is improved-diffusion's cosine
/// schedule, β_i = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), max β), in double precision (as SuperDiff builds it). Sampling with
/// fewer steps S than training timesteps T visits τ_k = round(k·(T−1)/(S−1)), k = 0..S−1, and steps from τ_k to
/// τ_{k−1} with β'_k = 1 − ᾱ_{τ_k}/ᾱ_{τ_{k−1}} (the respacing of improved-diffusion); S = T is plain DDPM.
/// </summary>
public sealed class DiffusionSchedule
{
    readonly double[] alphaBar;   // ᾱ at each training timestep t = 0..T−1
    readonly int[] visited;       // τ_0 = 0 < … < τ_{S−1} = T−1

    public DiffusionSchedule(DiffusionSettings settings, int steps)
    {
        int t = settings.Timesteps;
        if (steps < 1 || steps > t) throw new ArgumentOutOfRangeException(nameof(steps), $"sampling steps {steps}: expected 1..{t} (the denoiser's timesteps)");
        double Bar(double u) => Math.Pow(Math.Cos((u + settings.CosineOffset) / (1 + settings.CosineOffset) * Math.PI / 2), 2);
        alphaBar = new double[t];
        double product = 1;
        for (int i = 0; i < t; i++)
        {
            double beta = Math.Min(1 - Bar((i + 1.0) / t) / Bar((double)i / t), settings.MaxBeta);
            product *= 1 - beta;
            alphaBar[i] = product;
        }
        visited = steps == 1 ? [t - 1]
            : [.. Enumerable.Range(0, steps).Select(k => (int)Math.Round(k * (t - 1.0) / (steps - 1), MidpointRounding.AwayFromZero))];
        Timesteps = t;
    }

    public int Timesteps { get; }

    /// <summary>Number of sampling steps S.</summary>
    public int Steps => visited.Length;

    /// <summary>The training timestep τ_k the k-th step starts from (k = S−1 first, down to 0).</summary>
    public int TimestepOf(int k) => visited[k];

    /// <summary>ᾱ at τ_k.</summary>
    public double AlphaBar(int k) => alphaBar[visited[k]];

    /// <summary>ᾱ at τ_{k−1}; 1 after the last step (k = 0: the clean data).</summary>
    public double AlphaBarPrevious(int k) => k == 0 ? 1.0 : alphaBar[visited[k - 1]];

    /// <summary>β'_k = 1 − ᾱ_{τ_k}/ᾱ_{τ_{k−1}}: the variance of step k.</summary>
    public double Beta(int k) => 1 - AlphaBar(k) / AlphaBarPrevious(k);

    /// <summary>ᾱ at training timestep t (for tests and the training script's parity).</summary>
    public double AlphaBarAtTimestep(int t) => alphaBar[t];
}
