using Kiago.Chemistry;
using Kiago.Design.Experiments;

namespace Kiago.Tests.Eval;

public class IntegerisationTests
{
    [Fact]
    public void Rounding_multiplies_fractions_by_the_max_atom_count()
    {
        var c = Composition.Parse("Y0.16Ba0.34Cu0.5"); // fractions already
        Assert.Equal("Y2Ba5Cu8", Integerisation.RoundRuleBased(c, 15)!.ToString()); // 2.4, 5.1, 7.5 → 2, 5, 8 (half to even)
        Assert.Equal("Y16Ba34Cu50", Integerisation.RoundRuleBased(c, 100)!.ToString());
        Assert.Equal("Ba1Cu2", Integerisation.RoundRuleBased(Composition.Parse("Y0.1Ba0.3Cu0.6"), 4)!.ToString()); // Y 0.4 → 0 drops out
        Assert.Null(Integerisation.RoundRuleBased(Composition.Parse("Y1Ba1Cu1"), 1));
    }

    [Fact]
    public void Comparison_averages_both_changes_over_the_same_samples()
    {
        // Tc(x) = 100 · x_Cu: rounding moves Cu's fraction, the integer loss reported its own Tc.
        double[] Tc(IReadOnlyList<Composition> cs) => [.. cs.Select(c => 100 * c.Normalise()[Elements.Get("Cu")])];
        var samples = new[]
        {
            new IntegerisationSample(Composition.Parse("Ba0.55Cu0.45"), 45, 44), // M = 4: Ba2Cu2 → 50 (+5)
            new IntegerisationSample(Composition.Parse("Ba0.3Cu0.7"), 70, 67),   // M = 4: Ba1Cu3 → 75 (+5)
            new IntegerisationSample(Composition.Parse("Ba0.9Cu0.1"), 10, 12),   // M = 4: Ba4 → 0 (−10)
        };
        var row = Integerisation.Compare(4, samples, Tc);
        Assert.Equal(3, row.Samples);
        Assert.Equal((-1 - 3 + 2) / 3.0, row.IntegerLossMeanDeltaTc, 12);
        Assert.Equal((5 + 5 - 10) / 3.0, row.RuleBasedMeanDeltaTc, 12);
        Assert.Equal(0, row.RuleBasedEmpty);
        var md = Integerisation.Markdown([row]);
        Assert.Contains("| 4 | 3 | -0.67 | 0.00 | -0.67 | – |", md);
    }
}
