using Kiago.Nets.Architectures;

namespace Kiago.Tests.Nets;

/// <summary>The Tc card's element_frequencies table (the initialiser's replacement-element weights), read in Kiago.Nets.</summary>
public sealed class ElementFrequencyCardTests
{
    static double[]? Read(string card) => RandomArchitectures.ElemNet().ToWeightModel(card).ElementFrequencies();

    static string Table(IEnumerable<double> values) => "{\"element_frequencies\": [" + string.Join(", ", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]}";

    [Fact]
    public void A_valid_table_is_read_in_z_order()
    {
        var values = Enumerable.Range(0, 118).Select(z => z % 7 * 0.5).ToArray();
        Assert.Equal(values, Read(Table(values)));
    }

    [Theory]
    [InlineData("{\"name\": \"no table\"}")]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"element_frequencies\": \"many\"}")]
    [InlineData("{\"element_frequencies\": [1, 2, 3]}")]
    public void No_table_or_a_malformed_one_gives_none(string card) => Assert.Null(Read(card));

    [Fact]
    public void Negative_or_all_zero_tables_give_none()
    {
        Assert.Null(Read(Table(Enumerable.Repeat(0.0, 118))));
        Assert.Null(Read(Table(Enumerable.Range(0, 118).Select(z => z == 5 ? -1.0 : 1.0))));
    }
}
