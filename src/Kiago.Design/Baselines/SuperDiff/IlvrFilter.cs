namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>
/// ILVR's low-pass filter φ_S on a 1-D vector (Choi et al. 2021, as SuperDiff conditions on a reference compound):
/// average each block of S consecutive entries and give every entry of the block that average (down-sample by S,
/// up-sample by repetition). S = 1 keeps the vector, so ILVR then replaces x by the noisy reference entirely; a last
/// block shorter than S averages what it has.
/// </summary>
public static class IlvrFilter
{
    /// <summary>x ← x − φ_S(x) + φ_S(y): the low frequencies of x replaced by those of y.</summary>
    public static void Condition(Span<float> x, ReadOnlySpan<float> y, int scale)
    {
        if (x.Length != y.Length) throw new ArgumentException($"ILVR: x has {x.Length} entries, the reference {y.Length}");
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        for (int start = 0; start < x.Length; start += scale)
        {
            int n = Math.Min(scale, x.Length - start);
            double dx = 0, dy = 0;
            for (int j = 0; j < n; j++) { dx += x[start + j]; dy += y[start + j]; }
            float shift = (float)((dy - dx) / n);
            for (int j = 0; j < n; j++) x[start + j] += shift;
        }
    }

    /// <summary>φ_S(x) into <paramref name="result"/> (for tests).</summary>
    public static void LowPass(ReadOnlySpan<float> x, Span<float> result, int scale)
    {
        for (int start = 0; start < x.Length; start += scale)
        {
            int n = Math.Min(scale, x.Length - start);
            double sum = 0;
            for (int j = 0; j < n; j++) sum += x[start + j];
            for (int j = 0; j < n; j++) result[start + j] = (float)(sum / n);
        }
    }
}
