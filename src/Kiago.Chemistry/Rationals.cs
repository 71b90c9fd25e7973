using System.Numerics;

namespace Kiago.Chemistry;

/// <summary>Exact rational helpers mirroring Python's fractions/math, so integerisation matches KIAGO bit for bit.</summary>
public static class Rationals
{
    /// <summary>The exact value of a finite double as numerator/denominator (like Python's Fraction(float)).</summary>
    public static (BigInteger Numerator, BigInteger Denominator) Exact(double value)
    {
        if (!double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, "not finite");
        long bits = BitConverter.DoubleToInt64Bits(value);
        bool negative = bits < 0;
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xF_FFFF_FFFF_FFFFL;
        if (exponent == 0) exponent++; else mantissa |= 1L << 52;
        exponent -= 1075;
        BigInteger num = negative ? -mantissa : mantissa, den = BigInteger.One;
        if (exponent > 0) num <<= exponent; else den <<= -exponent;
        var g = BigInteger.GreatestCommonDivisor(num, den);
        return g.IsZero ? (BigInteger.Zero, BigInteger.One) : (num / g, den / g);
    }

    /// <summary>Python's <c>Fraction(value).limit_denominator(maxDenominator)</c>: the closest fraction with a
    /// denominator at most <paramref name="maxDenominator"/> (ties to the continued-fraction convergent).</summary>
    public static (BigInteger Numerator, BigInteger Denominator) LimitDenominator(double value, long maxDenominator = 1_000_000)
    {
        if (maxDenominator < 1) throw new ArgumentOutOfRangeException(nameof(maxDenominator), maxDenominator, "must be ≥ 1");
        if (Math.Abs(value) < 9007199254740992.0 && value == Math.Floor(value)) return (new BigInteger(value), BigInteger.One); // common case
        var (n0, d0) = Exact(value);
        if (d0 <= maxDenominator) return (n0, d0);
        BigInteger p0 = 0, q0 = 1, p1 = 1, q1 = 0, n = n0, d = d0;
        while (true)
        {
            var a = BigInteger.Divide(n - (n.Sign < 0 ? d - 1 : 0), d); // floor division, as Python's //
            var q2 = q0 + a * q1;
            if (q2 > maxDenominator) break;
            (p0, q0, p1, q1) = (p1, q1, p0 + a * p1, q2);
            (n, d) = (d, n - a * d);
        }
        var k = (maxDenominator - q0) / q1;
        // bound1 = (p0 + k p1)/(q0 + k q1), bound2 = p1/q1; Python keeps bound2 when |bound2 − x| ≤ |bound1 − x|.
        var b1n = p0 + k * p1;
        var b1d = q0 + k * q1;
        var dist2 = BigInteger.Abs(p1 * d0 - n0 * q1) * b1d;
        var dist1 = BigInteger.Abs(b1n * d0 - n0 * b1d) * q1;
        return dist2 <= dist1 ? (p1, q1) : (b1n, b1d);
    }

    public static BigInteger Lcm(BigInteger a, BigInteger b) => a / BigInteger.GreatestCommonDivisor(a, b) * b;
}
