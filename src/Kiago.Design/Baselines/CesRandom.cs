namespace Kiago.Design.Baselines;

/// <summary>
/// The baseline's own seeded generator (xoshiro256**, seeded through SplitMix64): the same seed gives the same
/// draws on every machine and .NET version (System.Random's algorithm is not a contract). The reference draws from
/// numpy's default_rng(1234) plus the unseeded global np.random, so its exact samples cannot be reproduced anyway;
/// we reproduce its distributions, not its streams.
/// </summary>
public sealed class CesRandom
{
    ulong s0, s1, s2, s3;

    public CesRandom(ulong seed)
    {
        ulong sm = seed;
        s0 = SplitMix(ref sm); s1 = SplitMix(ref sm); s2 = SplitMix(ref sm); s3 = SplitMix(ref sm);
    }

    /// <summary>An independent stream per (seed, base index): a base's samples do not depend on the other bases.</summary>
    public static CesRandom ForBase(long seed, int baseIndex)
    {
        ulong sm = (ulong)seed ^ 0x43455342_41534531UL; // "CESBASE1": keeps these streams apart from other seeded users
        ulong a = SplitMix(ref sm);
        ulong b = (ulong)(uint)baseIndex * 0xBF58476D1CE4E5B9UL;
        return new CesRandom(a ^ b);
    }

    static ulong SplitMix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits (numpy's rng.random()).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [low, highExclusive) without modulo bias (numpy's rng.integers(low, high)).</summary>
    public int NextInt(int low, int highExclusive)
    {
        if (highExclusive <= low) throw new ArgumentOutOfRangeException(nameof(highExclusive), $"empty range [{low}, {highExclusive})");
        ulong range = (ulong)((long)highExclusive - low);
        ulong limit = ulong.MaxValue - ulong.MaxValue % range; // reject the top partial block
        ulong x;
        do x = NextUInt64(); while (x >= limit);
        return (int)(low + (long)(x % range));
    }

    /// <summary>One item, uniformly.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(0, items.Count)];

    /// <summary><paramref name="count"/> distinct items in random order (numpy's choice(replace=False)); partial Fisher–Yates.</summary>
    public T[] Choose<T>(IReadOnlyList<T> items, int count)
    {
        if (count < 0 || count > items.Count)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"cannot choose {count} of {items.Count} items");
        var pool = items.ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = NextInt(i, pool.Length);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return pool[..count];
    }
}
