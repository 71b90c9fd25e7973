using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;
using Kiago.Tests.Support;

namespace Kiago.Tests.Nets;

public class FeaturiserLayoutTests
{
    [Fact]
    public void PeriodicTableCellsMatchElementsCsv()
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

    [Fact]
    public void EveryElementOwnsItsOwnCell()
    {
        var cells = Enumerable.Range(1, 118).Select(PeriodicTableLayout.FlatIndex).ToList();
        Assert.Equal(118, cells.Distinct().Count());
        Assert.All(cells, c => Assert.InRange(c, 0, PeriodicTableLayout.ImageSize - 1));
    }

    [Fact]
    public void ElemNetInputsAreThe86OfTheReference()
    {
        var z = ElemNetLayout.Elements;
        Assert.Equal(86, z.Count);
        // kiago-reference §4: indices {0} ∪ {2…8} ∪ {10…16} ∪ {18…82} ∪ {88…93}
        var expected = new[] { 0 }.Concat(Enumerable.Range(2, 7)).Concat(Enumerable.Range(10, 7)).Concat(Enumerable.Range(18, 65))
            .Concat(Enumerable.Range(88, 6)).Select(i => i + 1);
        Assert.Equal(expected, z);
    }

    [Fact]
    public void DroppedElementsAreReported()
    {
        var x = new float[118];
        x[0] = 0.5f;    // H: kept
        x[1] = 0.25f;   // He: dropped by ElemNet
        x[94] = 0.25f;  // Am: dropped by ElemNet
        Assert.Equal([2, 95], Featuriser.DroppedElements(ModelKind.ElemNet, x));
        Assert.Empty(Featuriser.DroppedElements(ModelKind.TcResNet, x));
    }
}
