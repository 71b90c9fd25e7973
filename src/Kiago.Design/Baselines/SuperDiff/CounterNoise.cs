using Kiago.Kernels.Noise;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>
/// The sampler's standard normal numbers, addressed by (seed, sample, step, stream, index) through
/// <see cref="CounterNormals"/>, so every sample's noise is the same whatever the batch, thread count or shard it runs in.
/// </summary>
public static class CounterNoise
{
    /// <summary>Stream of the denoising step's noise z.</summary>
    public const int Denoise = 0;
    /// <summary>Stream of the ILVR reference's noise ε'.</summary>
    public const int Reference = 1;
    /// <summary>Stream of the initial x_T.</summary>
    public const int Start = 2;

    public static float Normal(long seed, long sample, int step, int stream, int index) =>
        CounterNormals.Normal(seed, sample, step, stream, index);

    /// <summary>The row of values (seed, sample, step, stream, 0 … length − 1).</summary>
    public static void Fill(long seed, long sample, int step, int stream, Span<float> destination) =>
        CounterNormals.Fill(seed, sample, step, stream, destination);
}
