using Kiago.Design.Initialisers;

namespace Kiago.Design.Baselines;

/// <summary>
/// The baseline's seeded draws on top of <see cref="DesignRandom"/> (our own xoshiro256**): the same seed gives the same
/// draws on every machine and .NET version (System.Random's algorithm is not a contract). The reference draws from
/// numpy's default_rng(1234) plus the unseeded global np.random, so its exact samples cannot be reproduced anyway;
/// we reproduce its distributions, not its streams.
/// </summary>
public sealed class CesRandom
{
    readonly DesignRandom source;

    public CesRandom(ulong seed) => source = new DesignRandom(seed);

    CesRandom(DesignRandom source) => this.source = source;

    /// <summary>An independent stream per (seed, base index): a base's samples do not depend on the other bases.</summary>
    public static CesRandom ForBase(long seed, int baseIndex) => new(DesignRandom.ForStream(seed, baseIndex, "ces-baseline"));

    public ulong NextUInt64() => source.NextUInt64();

    /// <summary>Uniform in [0, 1) with 53 random bits (numpy's rng.random()).</summary>
    public double NextDouble() => source.NextDouble();
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
