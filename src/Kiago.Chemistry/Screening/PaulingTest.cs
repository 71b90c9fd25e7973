namespace Kiago.Chemistry.Screening;

/// <summary>
/// SMACT 2.5.5 `pauling_test` → `eneg_states_test`, as `smact_validity` calls it. Over pairs (i &lt; j) in element order:
/// a cation (ox &gt; 0) paired with an anion (ox &lt; 0) must have strictly lower χ (ties fail). Quirks kept on purpose:
/// an opposite-sign pair with a missing χ raises TypeError in Python, which smact_validity catches as a pass of the
/// whole test; a same-sign (or zero) pair with a missing χ fails. So the result can depend on element order.
/// </summary>
internal static class PaulingTest
{
    public enum Outcome { Pass, PassMissingElectronegativity, Fail }

    /// <summary>Runs the test; on failure <paramref name="failedPair"/> holds the offending (i, j).</summary>
    public static Outcome Run(ReadOnlySpan<int> oxidationStates, ReadOnlySpan<double> electronegativities, out (int I, int J) failedPair)
    {
        failedPair = (-1, -1);
        for (int i = 0; i < oxidationStates.Length; i++)
            for (int j = i + 1; j < oxidationStates.Length; j++)
            {
                int ox1 = oxidationStates[i], ox2 = oxidationStates[j];
                double en1 = electronegativities[i], en2 = electronegativities[j]; // NaN = None
                bool missing = double.IsNaN(en1) || double.IsNaN(en2);
                if ((ox1 > 0 && ox2 < 0) || (ox1 < 0 && ox2 > 0))
                {
                    if (missing) return Outcome.PassMissingElectronegativity;
                    bool ok = ox1 > 0 ? en1 < en2 : en1 > en2;
                    if (!ok) { failedPair = (i, j); return Outcome.Fail; }
                }
                else if (missing)
                {
                    failedPair = (i, j);
                    return Outcome.Fail;
                }
            }
        return Outcome.Pass;
    }
}
