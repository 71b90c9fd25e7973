using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// exp(x) in float by range reduction (x = n·ln 2 + r, |r| ≤ ln 2 / 2, Cody–Waite split of ln 2) and Cephes' degree-6
/// polynomial, written once as a sequence of IEEE multiplies and adds so the 8-lane and the scalar forms give the same
/// bits: results do not depend on the SIMD path, the vector width or where a range splits. Within 2 ulp of
/// MathF.Exp on [−87, 88]; below that range 0, above it +∞ (a little early: exp(−87) ≈ 1.6e-38, exp(88) ≈ 1.7e38),
/// NaN stays NaN.
/// </summary>
internal static class PolynomialExp
{
    const float Low = -87f, High = 88f, Log2E = 1.44269504088896341f, Ln2High = 0.693359375f, Ln2Low = -2.12194440e-4f;
    const float Round = 12582912f;   // 1.5·2^23: adding it rounds to the nearest integer (ties to even)
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
        P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        if (x < Low) return 0f;
        if (x > High) return float.PositiveInfinity;
        float n = (x * Log2E + Round) - Round;
        float r = (x - n * Ln2High) - n * Ln2Low;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        float e = (p * (r * r) + r) + 1f;
        return e * BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> input)
    {
        var x = Vector256.Min(Vector256.Max(input, Vector256.Create(Low)), Vector256.Create(High));
        var round = Vector256.Create(Round);
        var n = (x * Vector256.Create(Log2E) + round) - round;
        var r = (x - n * Vector256.Create(Ln2High)) - n * Vector256.Create(Ln2Low);
        var p = ((((Vector256.Create(P0) * r + Vector256.Create(P1)) * r + Vector256.Create(P2)) * r + Vector256.Create(P3)) * r
            + Vector256.Create(P4)) * r + Vector256.Create(P5);
        var e = (p * (r * r) + r) + Vector256<float>.One;
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        var result = Vector256.ConditionalSelect(Vector256.LessThan(input, Vector256.Create(Low)), Vector256<float>.Zero, e * scale);
        return Vector256.ConditionalSelect(Vector256.GreaterThan(input, Vector256.Create(High)), Vector256.Create(float.PositiveInfinity), result);
    }
}
