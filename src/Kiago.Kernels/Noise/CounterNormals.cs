using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Noise;

/// <summary>
/// Standard normal numbers addressed by (seed, sample, step, stream, index), for samplers whose results must not
/// depend on the batch, thread count or shard a sample runs in. A row's address (seed, sample, step, stream) is hashed
/// once (SplitMix64 finaliser, three rounds); each index then costs one more round, whose top 24 bits give
/// u1 ∈ (0, 1] and bottom 24 bits u2 ∈ [0, 1); Box–Muller's cosine branch z = √(−2 ln u1)·cos(2π u2) is evaluated in
/// float by the polynomials below, written as one sequence of IEEE multiplies and adds so the 8-lane and the scalar
/// forms give the same bits. |z| ≤ √(48 ln 2) ≈ 5.77 (u1 ≥ 2⁻²⁴).
/// </summary>
public static class CounterNormals
{
    const float Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f, Sqrt2 = 1.41421356f, TwoPi = 6.28318531f;
    const float Unit = 1f / 16777216f;   // 2^-24

    /// <summary>The one value at (seed, sample, step, stream, index).</summary>
    public static float Normal(long seed, long sample, int step, int stream, int index)
    {
        ulong h = Mix(RowKey(seed, sample, step, stream) ^ (ulong)index);
        return FromBits(h);
    }

    /// <summary>destination[j] = the value at (seed, sample, step, stream, j), for j below its length.</summary>
    public static void Fill(long seed, long sample, int step, int stream, Span<float> destination)
    {
        ulong key = RowKey(seed, sample, step, stream);
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Span<float> u1 = stackalloc float[8], u2 = stackalloc float[8];
            for (; j + 8 <= destination.Length; j += 8)
            {
                for (int l = 0; l < 8; l++)
                {
                    ulong h = Mix(key ^ (ulong)(j + l));
                    u1[l] = Uniform1(h);
                    u2[l] = Uniform2(h);
                }
                Box(Vector256.Create<float>(u1), Vector256.Create<float>(u2)).CopyTo(destination[j..]);
            }
        }
        for (; j < destination.Length; j++) destination[j] = FromBits(Mix(key ^ (ulong)j));
    }

    static ulong RowKey(long seed, long sample, int step, int stream)
    {
        ulong h = Mix((ulong)seed ^ 0x9E3779B97F4A7C15UL);
        h = Mix(h ^ (ulong)sample);
        return Mix(h ^ ((ulong)(uint)step << 32 | (uint)stream));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Uniform1(ulong h) => ((int)(h >> 40) + 1) * Unit;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Uniform2(ulong h) => (int)(h & 0xFFFFFF) * Unit;

    static float FromBits(ulong h) => MathF.Sqrt(-2f * Log(Uniform1(h))) * CosTwoPi(Uniform2(h));

    /// <summary>ln x for a positive normal float: x = 2^e·m, m ∈ [√½, √2), ln m = 2·atanh(s), s = (m − 1)/(m + 1), to s⁹.</summary>
    internal static float Log(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int e = ((bits >> 23) & 0xFF) - 127;
        float m = BitConverter.Int32BitsToSingle((bits & 0x7FFFFF) | 0x3F800000);
        if (m > Sqrt2) { m *= 0.5f; e += 1; }
        float s = (m - 1f) / (m + 1f), s2 = s * s;
        float p = (((s2 * (1f / 9f) + 1f / 7f) * s2 + 1f / 5f) * s2 + 1f / 3f) * s2;
        float n = e;
        return n * Ln2High + (n * Ln2Low + (2f * s + 2f * s * p));
    }

    /// <summary>cos 2πu for u ∈ [0, 1): folded exactly to 2πb, b ∈ [0, ¼], then the Taylor series to x¹².</summary>
    internal static float CosTwoPi(float u)
    {
        float v = u >= 0.5f ? u - 1f : u;
        float a = MathF.Abs(v);
        bool flip = a > 0.25f;
        float b = flip ? 0.5f - a : a;
        float c = CosPolynomial(b * TwoPi);
        return flip ? -c : c;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float CosPolynomial(float x)
    {
        float x2 = x * x;
        return (((((x2 * (1f / 479001600f) - 1f / 3628800f) * x2 + 1f / 40320f) * x2 - 1f / 720f) * x2 + 1f / 24f) * x2 - 0.5f) * x2 + 1f;
    }

    /// <summary>The 8-lane form of <see cref="FromBits"/> after the uniforms: the same operations, lane by lane.</summary>
    static Vector256<float> Box(Vector256<float> u1, Vector256<float> u2) =>
        Vector256.Sqrt(Vector256.Create(-2f) * Log(u1)) * CosTwoPi(u2);

    internal static Vector256<float> Log(Vector256<float> x)
    {
        var bits = x.AsInt32();
        var e = (Vector256.ShiftRightArithmetic(bits, 23) & Vector256.Create(0xFF)) - Vector256.Create(127);
        var m = ((bits & Vector256.Create(0x7FFFFF)) | Vector256.Create(0x3F800000)).AsSingle();
        var high = Vector256.GreaterThan(m, Vector256.Create(Sqrt2));
        m = Vector256.ConditionalSelect(high, m * Vector256.Create(0.5f), m);
        e = Vector256.ConditionalSelect(high.AsInt32(), e + Vector256<int>.One, e);
        var one = Vector256<float>.One;
        var s = (m - one) / (m + one);
        var s2 = s * s;
        var p = (((s2 * Vector256.Create(1f / 9f) + Vector256.Create(1f / 7f)) * s2 + Vector256.Create(1f / 5f)) * s2 + Vector256.Create(1f / 3f)) * s2;
        var n = Vector256.ConvertToSingle(e);
        var twoS = Vector256.Create(2f) * s;
        return n * Vector256.Create(Ln2High) + (n * Vector256.Create(Ln2Low) + (twoS + twoS * p));
    }

    internal static Vector256<float> CosTwoPi(Vector256<float> u)
    {
        var half = Vector256.Create(0.5f);
        var v = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(u, half), u - Vector256<float>.One, u);
        var a = Vector256.Abs(v);
        var flip = Vector256.GreaterThan(a, Vector256.Create(0.25f));
        var b = Vector256.ConditionalSelect(flip, half - a, a);
        var x = b * Vector256.Create(TwoPi);
        var x2 = x * x;
        var c = (((((x2 * Vector256.Create(1f / 479001600f) - Vector256.Create(1f / 3628800f)) * x2 + Vector256.Create(1f / 40320f)) * x2
            - Vector256.Create(1f / 720f)) * x2 + Vector256.Create(1f / 24f)) * x2 - half) * x2 + Vector256<float>.One;
        return Vector256.ConditionalSelect(flip, -c, c);
    }
}
