using System.Runtime.Intrinsics;
using Kiago.Kernels.Cpu;

namespace Kiago.Tests.Kernels;

/// <summary>The CPU backend's exp (Sigmoid): accurate, the same bits in the 8-lane and scalar forms, honest tails.</summary>
public class PolynomialExpTests
{
    static IEnumerable<float> Inputs()
    {
        var rnd = new Random(5);
        for (int i = 0; i < 20000; i++) yield return (float)(rnd.NextDouble() * 180 - 90);
        foreach (float v in new[] { 0f, -0f, 1e-30f, -1e-30f, -87f, 88f, -87.0001f, 88.0001f, -1000f, 1000f, float.NaN,
                     float.PositiveInfinity, float.NegativeInfinity, 0.34657359f, -0.34657359f, 0.5f, -0.5f })
            yield return v;
    }

    [Fact]
    public void Vector_and_scalar_forms_give_the_same_bits()
    {
        var xs = Inputs().ToArray();
        var padded = xs.Concat(Enumerable.Repeat(0f, (8 - xs.Length % 8) % 8)).ToArray();
        for (int i = 0; i < padded.Length; i += 8)
        {
            var v = PolynomialExp.Exp(Vector256.Create(padded, i));
            for (int j = 0; j < 8; j++)
            {
                float scalar = PolynomialExp.Exp(padded[i + j]);
                Assert.True(BitConverter.SingleToInt32Bits(scalar) == BitConverter.SingleToInt32Bits(v[j]) || (float.IsNaN(scalar) && float.IsNaN(v[j])),
                    $"exp({padded[i + j]:R}): scalar {scalar:R}, lane {v[j]:R}");
            }
        }
    }

    [Fact]
    public void Within_two_ulp_of_MathF_Exp_on_its_range()
    {
        foreach (float x in Inputs().Where(x => x is >= -87f and <= 88f))
        {
            float expected = MathF.Exp(x), got = PolynomialExp.Exp(x);
            int ulps = Math.Abs(BitConverter.SingleToInt32Bits(expected) - BitConverter.SingleToInt32Bits(got));
            Assert.True(ulps <= 2, $"exp({x:R}) = {got:R}, MathF.Exp {expected:R}: {ulps} ulp apart");
        }
    }

    [Fact]
    public void Tails_are_zero_and_infinity_and_nan_stays_nan()
    {
        Assert.Equal(0f, PolynomialExp.Exp(-87.5f));
        Assert.Equal(0f, PolynomialExp.Exp(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, PolynomialExp.Exp(88.5f));
        Assert.Equal(float.PositiveInfinity, PolynomialExp.Exp(float.PositiveInfinity));
        Assert.True(float.IsNaN(PolynomialExp.Exp(float.NaN)));
        Assert.True(float.IsNaN(PolynomialExp.Exp(Vector256.Create(float.NaN))[3]));
        Assert.Equal(1f, PolynomialExp.Exp(0f));
    }
}
