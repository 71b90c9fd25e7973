namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>
/// Standard normal numbers addressed by (seed, sample, step, stream, index): each value is a hash of its address
/// (SplitMix64 finaliser) turned into a normal by Box–Muller, so every sample's noise is the same whatever the batch,
/// thread count or shard it runs in.
/// </summary>
public static class CounterNoise
{
    /// <summary>Stream of the denoising step's noise z.</summary>
    public const int Denoise = 0;
    /// <summary>Stream of the ILVR reference's noise ε'.</summary>
    public const int Reference = 1;
    /// <summary>Stream of the initial x_T.</summary>
    public const int Start = 2;

    public static double Normal(long seed, long sample, int step, int stream, int index)
    {
        ulong h = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (ulong)sample);
        h = Mix(h ^ ((ulong)(uint)step << 32 | (uint)stream));
        h = Mix(h ^ (ulong)index);
        // 53 bits → u1 in (0, 1], 11 more → the angle; Box–Muller's cosine branch
        double u1 = ((h >> 11) + 1) * (1.0 / 9007199254740992.0);
        double u2 = (Mix(h) >> 11) * (1.0 / 9007199254740992.0);
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
