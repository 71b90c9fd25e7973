using System.Globalization;
using Kiago.Chemistry;
using Kiago.Tests.Support;

namespace Kiago.Tests.Chemistry;

/// <summary>Every fact in ElementData.cs equals ../shared/data/elements.csv (each mismatch is listed).</summary>
public class ElementTableTests
{
    static string Ints(IReadOnlyList<int> states) => string.Join(' ', states);
    static string Number(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";
    static string Csv(double? v) => v is null ? "" : Number(v);
    static string CsvNumber(string text) => text == "" ? "" : Number(double.Parse(text, CultureInfo.InvariantCulture));

    [Fact]
    public void Every_value_matches_shared_elements_csv()
    {
        var mismatches = new List<string>();
        int rows = 0;
        foreach (var (line, row) in SharedCsv.Rows("elements.csv"))
        {
            rows++;
            var z = int.Parse(row["Z"], CultureInfo.InvariantCulture);
            var e = Elements.ByZ(z);
            var channel = e.TablePosition.Channel.ToString().ToLowerInvariant();
            var ours = new Dictionary<string, string>
            {
                ["Z"] = e.Z.ToString(CultureInfo.InvariantCulture),
                ["symbol"] = e.Symbol,
                ["name"] = e.Name,
                ["period"] = e.Period.ToString(CultureInfo.InvariantCulture),
                ["group"] = e.Group.ToString(CultureInfo.InvariantCulture),
                ["series"] = e.Series == ElementSeries.None ? "" : e.Series.ToString().ToLowerInvariant(),
                ["block"] = e.Block.ToString().ToLowerInvariant(),
                ["pt32_row"] = e.TablePosition.Row.ToString(CultureInfo.InvariantCulture),
                ["pt32_col"] = e.TablePosition.Column.ToString(CultureInfo.InvariantCulture),
                ["pt32_channel"] = channel,
                ["atomic_mass"] = Csv(e.AtomicMass),
                ["pauling_en_smact"] = Csv(e.PaulingSmact),
                ["pauling_en_pymatgen"] = Csv(e.PaulingPymatgen),
                ["is_metal_smact"] = e.IsSmactMetal ? "1" : "0",
                ["ox_smact14"] = Ints(e.OxidationStatesSmact14),
                ["ox_pymatgen_common"] = Ints(e.OxidationStatesPymatgenCommon),
                ["ox_pymatgen_icsd"] = Ints(e.OxidationStatesPymatgenIcsd),
            };
            string[] numeric = ["atomic_mass", "pauling_en_smact", "pauling_en_pymatgen"];
            foreach (var (column, value) in ours)
            {
                var expected = numeric.Contains(column) ? CsvNumber(row[column]) : row[column];
                if (expected != value)
                    mismatches.Add($"line {line} ({row["symbol"]}) {column}: csv \"{expected}\", ours \"{value}\"");
            }
        }
        Assert.Equal(Elements.Count, rows);
        Assert.True(mismatches.Count == 0, string.Join('\n', mismatches));
    }

    [Fact]
    public void Lookup_by_symbol_and_z_agree()
    {
        for (int z = 1; z <= Elements.Count; z++)
        {
            var e = Elements.ByZ(z);
            Assert.Equal(z - 1, e.Index);
            Assert.Same(e, Elements.Get(e.Symbol));
        }
        Assert.False(Elements.TryGet("Xx", out _));
        Assert.False(Elements.TryGet("fe", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Elements.ByZ(119));
    }

    [Fact]
    public void Smact_metals_are_the_seventy_nine_of_appendix_a()
    {
        // kiago-reference.md Appendix A: smact.metals has 79 entries and Pm is not one of them.
        Assert.Equal(79, Elements.All.Count(e => e.IsSmactMetal));
        Assert.False(Elements.Get("Pm").IsSmactMetal);
    }

    [Fact]
    public void Oxidation_states_select_by_table()
    {
        var h = Elements.Get("H");
        Assert.Equal([-1, 1], h.OxidationStates(OxidationStateTable.Smact14));
        Assert.Equal([-1, 1], h.OxidationStates(OxidationStateTable.PymatgenCommon));
        Assert.Equal([1, -1], h.OxidationStates(OxidationStateTable.PymatgenIcsd));
    }
}
