namespace Kiago.Design.Initialisers;

/// <summary>
/// Our own seeded generator (xoshiro256**, seeded through SplitMix64), so a seed gives the same numbers on
/// every machine and .NET version — System.Random's algorithm is not a contract. One stream per purpose and
/// base (<see cref="ForStream"/>), so a resumed base draws exactly what an uninterrupted run drew.
/// </summary>
public sealed class DesignRandom
{
    ulong s0, s1, s2, s3;

    public DesignRandom(ulong seed)
    {
        ulong sm = seed;
        s0 = SplitMix(ref sm); s1 = SplitMix(ref sm); s2 = SplitMix(ref sm); s3 = SplitMix(ref sm);
    }

    /// <summary>An independent stream for (seed, base index, purpose).</summary>
    public static DesignRandom ForStream(long seed, int baseIndex, string purpose)
    {
        ulong h = 1469598103934665603UL; // FNV-1a over the purpose name: stable across runs, unlike string.GetHashCode
        foreach (char ch in purpose) { h ^= ch; h *= 1099511628211UL; }
        ulong mixed = (ulong)seed * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)baseIndex << 32 | (uint)baseIndex) * 0xBF58476D1CE4E5B9UL ^ h;
        return new DesignRandom(mixed);
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

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Index drawn from a cumulative distribution (last entry = total weight, > 0).</summary>
    public int NextFromCumulative(ReadOnlySpan<double> cumulative)
    {
        double u = NextDouble() * cumulative[^1];
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (cumulative[mid] > u) hi = mid; else lo = mid + 1;
        }
        return lo;
    }
}
