using System.Runtime.Intrinsics;
using Kiago.Kernels.Noise;

namespace Kiago.Tests.Kernels;

/// <summary>The samplers' addressed normals: accurate pieces, the same bits by row or one at a time, a normal distribution.</summary>
public class CounterNormalsTests
{
    static readonly float[] Grid = [.. Enumerable.Range(1, 1 << 16).Select(i => i / 65536f)
        .Concat(Enumerable.Range(0, 200).Select(i => MathF.Pow(2, -24 + i * 0.12f)))];

    [Fact]
    public void Log_is_within_two_ulp_of_the_double_logarithm_on_the_uniform_range()
    {
        foreach (float u in Grid.Where(u => u <= 1))
        {
            double exact = Math.Log(u), got = CounterNormals.Log(u);
            double ulp = Math.Max(Math.Abs(exact), 1e-30) * 1.2e-7;
            Assert.True(Math.Abs(got - exact) <= 2 * ulp + 1e-9, $"ln {u:R} = {exact:R}, got {got:R}");
        }
        Assert.Equal(0f, CounterNormals.Log(1f));
    }

    [Fact]
    public void CosTwoPi_is_within_2e_7_of_the_double_cosine_on_the_unit_interval()
    {
        foreach (float u in Grid.Select(u => u % 1f).Append(0f).Append(0.25f).Append(0.5f).Append(0.75f).Append(0.99999994f))
        {
            double exact = Math.Cos(2 * Math.PI * u), got = CounterNormals.CosTwoPi(u);
            Assert.True(Math.Abs(got - exact) <= 2e-7, $"cos 2π·{u:R} = {exact:R}, got {got:R}");
        }
    }

    [Fact]
    public void Vector_and_scalar_forms_give_the_same_bits()
    {
        var padded = Grid.Concat(Enumerable.Repeat(1f, (8 - Grid.Length % 8) % 8)).ToArray();
        var angles = padded.Select(u => u % 1f).ToArray();
        for (int i = 0; i < padded.Length; i += 8)
        {
            var log = CounterNormals.Log(Vector256.Create(padded, i));
            var cos = CounterNormals.CosTwoPi(Vector256.Create(angles, i));
            for (int j = 0; j < 8; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(CounterNormals.Log(padded[i + j])), BitConverter.SingleToInt32Bits(log[j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(CounterNormals.CosTwoPi(angles[i + j])), BitConverter.SingleToInt32Bits(cos[j]));
            }
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(19)]
    [InlineData(96)]
    public void A_filled_row_is_its_values_one_at_a_time(int length)
    {
        var row = new float[length];
        CounterNormals.Fill(42, 1234, 17, 1, row);
        for (int j = 0; j < length; j++)
            Assert.Equal(BitConverter.SingleToInt32Bits(CounterNormals.Normal(42, 1234, 17, 1, j)), BitConverter.SingleToInt32Bits(row[j]));
    }

    [Fact]
    public void Values_are_standard_normal_and_independent_across_index_sample_step_and_stream()
    {
        const int rows = 4096, width = 96;
        var all = new float[rows * width];
        for (int r = 0; r < rows; r++) CounterNormals.Fill(7, r, 3, 0, all.AsSpan(r * width, width));
        double n = all.Length, mean = all.Average(v => (double)v);
        double variance = all.Sum(v => (v - mean) * (v - mean)) / n;
        double skew = all.Sum(v => Math.Pow(v - mean, 3)) / n, kurtosis = all.Sum(v => Math.Pow(v - mean, 4)) / n;
        Assert.InRange(mean, -0.005, 0.005);
        Assert.InRange(variance, 0.99, 1.01);
        Assert.InRange(skew, -0.02, 0.02);
        Assert.InRange(kurtosis, 2.95, 3.05);
        // the normal CDF at a few points (standard errors ≈ 0.0008 at 393,216 values)
        foreach (var (z, cdf) in new[] { (-2.0, 0.02275), (-1.0, 0.15866), (0.0, 0.5), (0.5, 0.69146), (1.5, 0.93319), (2.5, 0.99379) })
            Assert.InRange(all.Count(v => v <= z) / n, cdf - 0.004, cdf + 0.004);
        Assert.True(all.Max(Math.Abs) <= 5.78f);
        // neighbours in index, sample, step and stream are uncorrelated
        double Correlation(Func<int, float> a, Func<int, float> b, int count)
        {
            double s = 0;
            for (int i = 0; i < count; i++) s += a(i) * b(i);
            return s / count;
        }
        Assert.InRange(Correlation(i => all[i], i => all[i + 1], all.Length - 1), -0.01, 0.01);
        Assert.InRange(Correlation(i => all[i], i => all[i + width], all.Length - width), -0.01, 0.01);
        Assert.InRange(Correlation(i => all[i], i => CounterNormals.Normal(7, i / width, 4, 0, i % width), 100_000), -0.015, 0.015);
        Assert.InRange(Correlation(i => all[i], i => CounterNormals.Normal(7, i / width, 3, 1, i % width), 100_000), -0.015, 0.015);
        Assert.InRange(Correlation(i => all[i], i => CounterNormals.Normal(8, i / width, 3, 0, i % width), 100_000), -0.015, 0.015);
    }
}
