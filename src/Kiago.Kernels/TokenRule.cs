namespace Kiago.Kernels;

/// <summary>
/// The element-token rules both backends follow (<see cref="IBackend.SelectTokens"/>, <see cref="IBackend.GatherRows"/>):
/// which entries of a composition become tokens, and how a float index picks a table row.
/// </summary>
public static class TokenRule
{
    /// <summary>The size check of the token selection and its adjoint, on every backend.</summary>
    public static void RequireSizes(string op, int batch, int columns, int tokens)
    {
        if (batch < 0 || columns < 0 || tokens < 1) throw new ShapeException($"{op}: bad size batch={batch} columns={columns} tokens={tokens}");
    }

    /// <summary>The table row of a float index: ⌊index + ½⌋ when it lies in [0, vocabulary), else −1 (NaN too).</summary>
    public static int Row(float index, int vocabulary)
    {
        float shifted = index + 0.5f;
        return shifted >= 0f && shifted < vocabulary ? (int)shifted : -1;
    }

    /// <summary>
    /// Whether column <paramref name="c"/> of <paramref name="x"/> is among the <paramref name="tokens"/> largest positive
    /// entries (ties: the lower column); <paramref name="positives"/> is the number of positive entries.
    /// </summary>
    public static bool Kept(ReadOnlySpan<float> x, int c, int tokens, int positives)
    {
        float v = x[c];
        if (!(v > 0f)) return false;
        if (positives <= tokens) return true;
        int above = 0;
        for (int j = 0; j < x.Length && above < tokens; j++)
            if (x[j] > v || (x[j] == v && j < c)) above++;
        return above < tokens;
    }

    /// <summary>One row: y = [atomic numbers (tokens), fractions (tokens)], picked = the columns (−1 for unused slots).</summary>
    public static void Select(ReadOnlySpan<float> x, int tokens, Span<float> y, Span<int> picked)
    {
        int positives = 0;
        foreach (float v in x) if (v > 0f) positives++;
        int slot = 0;
        for (int c = 0; c < x.Length && slot < tokens; c++)
        {
            if (!Kept(x, c, tokens, positives)) continue;
            y[slot] = c + 1;
            y[tokens + slot] = x[c];
            picked[slot] = c;
            slot++;
        }
        for (; slot < tokens; slot++)
        {
            y[slot] = 0f;
            y[tokens + slot] = 0f;
            picked[slot] = -1;
        }
    }
}
