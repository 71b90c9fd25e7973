using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

public class FeaturiserLayoutTests
{
    [Fact]
    public void Periodic_table_cells_match_elements_csv()
    {
        var lines = File.ReadAllLines(SharedData.Path("data", "elements.csv"));
        var header = lines[0].Split(',');
        int zCol = Array.IndexOf(header, "Z"), row = Array.IndexOf(header, "pt32_row"), col = Array.IndexOf(header, "pt32_col"),
            ch = Array.IndexOf(header, "pt32_channel");
        int checkedCount = 0;
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            int z = int.Parse(f[zCol]);
            var expected = ("spdf".IndexOf(f[ch], StringComparison.Ordinal), int.Parse(f[row]), int.Parse(f[col]));
            Assert.Equal(expected, PeriodicTableLayout.Cell(z));
            checkedCount++;
        }
        Assert.Equal(118, checkedCount);
    }

    /// <summary>The documented rule (docs/MODELS.md, training/kiago_features.py), written from Z alone.</summary>
    static (int, int, int) RuleFromZ(int z)
    {
        int[] periodEnd = [2, 10, 18, 36, 54, 86, 118];
        if (z == 1) return (0, 0, 0);
        if (z == 2) return (0, 0, 31);
        int period = Array.FindIndex(periodEnd, end => z <= end) + 1, row = period - 1;
        int k = z - periodEnd[period - 2] - 1;
        if (k < 2) return (0, row, k);
        if (period <= 3) return (1, row, 26 + (k - 2));
        if (period <= 5) return k == 2 ? (2, row, 2) : k < 12 ? (2, row, 17 + (k - 3)) : (1, row, 26 + (k - 12));
        return k == 2 ? (2, row, 2) : k <= 16 ? (3, row, k) : k <= 25 ? (2, row, k) : (1, row, k);
    }

    [Fact]
    public void Chemistry_table_follows_the_documented_rule()
    {
        for (int z = 1; z <= 118; z++) Assert.Equal(RuleFromZ(z), PeriodicTableLayout.Cell(z));
    }

    [Fact]
    public void Every_element_owns_its_own_cell()
    {
        var cells = Enumerable.Range(1, 118).Select(PeriodicTableLayout.FlatIndex).ToList();
        Assert.Equal(118, cells.Distinct().Count());
        Assert.All(cells, c => Assert.InRange(c, 0, PeriodicTableLayout.ImageSize - 1));
    }

    [Fact]
    public void ElemNet_inputs_are_the_86_of_the_reference()
    {
        var z = ElemNetLayout.Elements;
        Assert.Equal(86, z.Count);
        // kiago-reference §4: indices {0} ∪ {2…8} ∪ {10…16} ∪ {18…82} ∪ {88…93}
        var expected = new[] { 0 }.Concat(Enumerable.Range(2, 7)).Concat(Enumerable.Range(10, 7)).Concat(Enumerable.Range(18, 65))
            .Concat(Enumerable.Range(88, 6)).Select(i => i + 1);
        Assert.Equal(expected, z);
    }

    [Fact]
    public void Dropped_elements_are_reported()
    {
        var x = new float[118];
        x[0] = 0.5f;    // H: kept
        x[1] = 0.25f;   // He: dropped by ElemNet
        x[94] = 0.25f;  // Am: dropped by ElemNet
        Assert.Equal([2, 95], Featuriser.DroppedElements(ModelKind.ElemNet, x));
        Assert.Empty(Featuriser.DroppedElements(ModelKind.TcResNet, x));
    }
}
