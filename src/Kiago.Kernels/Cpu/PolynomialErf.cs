using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// erf and its derivative on the CPU: <see cref="UnarySpec.Erf"/>'s formula (Maclaurin series below 0.5, the erfc
/// continued fraction's Chebyshev fit above) with <see cref="PolynomialExp"/> for the exponential, written once as
/// IEEE multiplies and adds so the 8-lane and scalar forms give the same bits (GELU's erf runs on every feature of
/// every token). Within a few ulp of the scalar definition the ILGPU backend follows.
/// </summary>
internal static class PolynomialErf
{
    const float TwoOverSqrtPi = 1.1283791670955126f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        if (z < 0.5f)
        {
            float x2 = x * x;
            return TwoOverSqrtPi * x * (1f + x2 * (-1f / 3f + x2 * (1f / 10f + x2 * (-1f / 42f + x2 * (1f / 216f
                + x2 * (-1f / 1320f + x2 * (1f / 9360f + x2 * (-1f / 75600f))))))));
        }
        float t = 1f / (1f + 0.5f * z);
        float erfc = t * PolynomialExp.Exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f
            + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f)))))))));
        return x >= 0f ? 1f - erfc : erfc - 1f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Erf(Vector256<float> x)
    {
        static Vector256<float> C(float v) => Vector256.Create(v);
        var one = Vector256<float>.One;
        var z = Vector256.Abs(x);
        var x2 = x * x;
        var series = C(TwoOverSqrtPi) * x * (one + x2 * (C(-1f / 3f) + x2 * (C(1f / 10f) + x2 * (C(-1f / 42f) + x2 * (C(1f / 216f)
            + x2 * (C(-1f / 1320f) + x2 * (C(1f / 9360f) + x2 * C(-1f / 75600f))))))));
        var t = one / (one + C(0.5f) * z);
        var erfc = t * PolynomialExp.Exp(-z * z - C(1.26551223f) + t * (C(1.00002368f) + t * (C(0.37409196f) + t * (C(0.09678418f) + t * (C(-0.18628806f)
            + t * (C(0.27886807f) + t * (C(-1.13520398f) + t * (C(1.48851587f) + t * (C(-0.82215223f) + t * C(0.17087277f))))))))));
        var far = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), one - erfc, erfc - one);
        return Vector256.ConditionalSelect(Vector256.LessThan(z, C(0.5f)), series, far);
    }

    /// <summary>d erf / dx = 2/√π · e^(−x²).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Derivative(float x) => TwoOverSqrtPi * PolynomialExp.Exp(-x * x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Derivative(Vector256<float> x) => Vector256.Create(TwoOverSqrtPi) * PolynomialExp.Exp(-(x * x));
}
