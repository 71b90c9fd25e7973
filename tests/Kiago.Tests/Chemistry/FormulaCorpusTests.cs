using System.Globalization;
using System.Text.RegularExpressions;
using Kiago.Chemistry;
using Kiago.Tests.Support;

namespace Kiago.Tests.Chemistry;

/// <summary>Every formula in ../shared/data/*.csv parses, with the amounts the CSV writes, and round-trips.</summary>
public partial class FormulaCorpusTests
{
    // The data README's convention: symbol then optional plain decimal, no brackets or repeats.
    [GeneratedRegex(@"([A-Z][a-z]?)(\d+(?:\.\d+)?)?")]
    private static partial Regex Token();

    public static TheoryData<string> Files() => [.. SharedCsv.FilesWithFormulaColumn()];

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_formula_parses_to_the_csv_amounts(string file)
    {
        var failures = new List<string>();
        int count = 0;
        foreach (var (line, formula) in SharedCsv.Column(file, "formula"))
        {
            count++;
            if (!Composition.TryParse(formula, out var c, out var error))
            {
                failures.Add($"{file}:{line}: {error.Message}");
                continue;
            }
            var expected = Token().Matches(formula)
                .Select(m => (m.Groups[1].Value, m.Groups[2].Success ? double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1.0))
                .Where(t => t.Item2 != 0)
                .ToArray();
            var ours = c.Elements.Select((e, i) => (e.Symbol, c.Amounts[i])).ToArray();
            if (!expected.SequenceEqual(ours))
                failures.Add($"{file}:{line}: \"{formula}\" parsed as {c}");
            else if (!Composition.Parse(c.ToCanonicalString()).Equals(c))
                failures.Add($"{file}:{line}: \"{formula}\" canonical print {c.ToCanonicalString()} does not round-trip");
        }
        Assert.True(count > 0, $"{file} has no rows");
        Assert.True(failures.Count == 0, $"{failures.Count} failures, first: " + string.Join('\n', failures.Take(20)));
    }
}
