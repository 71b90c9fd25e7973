using System.Globalization;
using System.Security.Cryptography;
using Kiago.Chemistry;
using Kiago.Design.Novelty;
using Kiago.Tests.Support;

namespace Kiago.Tests.Design.Trust;

/// <summary>
/// The embedded known-compositions index against ../shared, rebuilt here in C# from supercon.csv and
/// non_superconductors.csv with the product's own key (<see cref="KnownCompositions.KeyOf"/>): every composition of
/// the data is in the index with the merged Tc, nothing else is, and the provenance names the inputs' SHA-256s.
/// </summary>
public sealed class KnownIndexTests
{
    [Fact]
    public void Every_composition_of_the_shared_data_is_in_the_index_with_its_tc_and_nothing_else_is()
    {
        var expected = new Dictionary<string, (string Formula, double Tc, bool MeasuredZero)>(StringComparer.Ordinal);
        foreach (var (_, row) in SharedCsv.Rows("supercon.csv"))
        {
            var key = KnownCompositions.KeyOf(Composition.Parse(row["formula"]));
            double tc = double.Parse(row["tc_kelvin"], CultureInfo.InvariantCulture);
            expected[key] = expected.TryGetValue(key, out var old) ? old with { Tc = Math.Max(old.Tc, tc) } : (row["formula"], tc, false);
        }
        foreach (var (_, row) in SharedCsv.Rows("non_superconductors.csv"))
        {
            var key = KnownCompositions.KeyOf(Composition.Parse(row["formula"]));
            bool zero = row["source"] == "supercon_stanev_tc0";
            if (expected.TryGetValue(key, out var old)) expected[key] = old with { MeasuredZero = old.MeasuredZero || zero };
            else expected[key] = (row["formula"], double.NaN, zero);
        }
        var index = KnownCompositions.Builtin;
        Assert.Equal(expected.Count, index.Count);
        foreach (var entry in index.Entries)
        {
            Assert.True(expected.TryGetValue(entry.Key, out var e), $"{entry.Key} is in the index but not in ../shared");
            Assert.Equal(e.Formula, entry.Formula);
            double tc = double.IsNaN(e.Tc) && e.MeasuredZero ? 0 : e.Tc;
            if (double.IsNaN(tc)) Assert.True(double.IsNaN(entry.TcKelvin), $"{entry.Key}: Tc {entry.TcKelvin}, expected none");
            else Assert.Equal(tc, entry.TcKelvin);
        }
    }

    [Fact]
    public void The_index_records_the_sha256_of_both_sources()
    {
        var provenance = KnownCompositions.Builtin.Provenance;
        foreach (var name in new[] { "supercon.csv", "non_superconductors.csv" })
        {
            using var stream = File.OpenRead(SharedData.Path("data", name));
            Assert.Contains($"source {name} sha256={Convert.ToHexStringLower(SHA256.HashData(stream))}", provenance);
        }
    }

    [Theory]
    [InlineData("YBa2Cu3O7", "O7Cu3Y1Ba2")]
    [InlineData("Y2Ba4Cu6O14", "O7Cu3Y1Ba2")]
    [InlineData("Cu2O4", "O2Cu1")]
    [InlineData("Y1Ba2Cu3O6.95", "O139Cu60Y20Ba40")]
    public void Keys_are_reduced_integer_formulas_in_z_order(string formula, string key) =>
        Assert.Equal(key, KnownCompositions.KeyOf(Composition.Parse(formula)));

    [Fact]
    public void Ybco_is_known_with_its_supercon_tc()
    {
        var search = new NoveltySearch(KnownCompositions.Builtin);
        var v = search.Query(Composition.Parse("Y2Ba4Cu6O14"));
        Assert.True(v.Known);
        Assert.Equal(0, v.Distance);
        var max = SharedCsv.Rows("supercon.csv").Where(r => KnownCompositions.KeyOf(Composition.Parse(r.Row["formula"])) == "O7Cu3Y1Ba2")
            .Max(r => double.Parse(r.Row["tc_kelvin"], CultureInfo.InvariantCulture));
        Assert.Equal(max, v.NearestTcKelvin);
    }
}
