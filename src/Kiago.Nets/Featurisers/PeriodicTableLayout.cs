using Kiago.Chemistry;

namespace Kiago.Nets.Featurisers;

/// <summary>
/// Where each element sits in the 4×7×32 periodic-table image (channels s, p, d, f; rows = periods; 32 columns of the
/// long-form table). The rule (docs/MODELS.md, ../shared/data/elements.csv pt32_*): groups 1–2 → columns 0–1 (s);
/// He → column 31 (s channel); group 3 (Sc, Y, La, Ac) → column 2 (d); Ce–Lu and Th–Lr → columns 3–16 (f);
/// groups 4–12 → columns 17–25 (d); groups 13–18 → columns 26–31 (p).
/// </summary>
public static class PeriodicTableLayout
{
    public const int Channels = 4, Rows = 7, Columns = 32;
    public const int ImageSize = Channels * Rows * Columns;
    public static readonly int[] ImageShape = [Channels, Rows, Columns];

    /// <summary>(channel, row, column) of element <paramref name="z"/>; channel 0 = s, 1 = p, 2 = d, 3 = f.
    /// Read from the Chemistry element table (the facts, cross-checked against elements.csv there and here).</summary>
    public static (int Channel, int Row, int Column) Cell(int z)
    {
        if (z is < 1 or > 118) throw new ArgumentOutOfRangeException(nameof(z), z, "atomic number must be 1..118");
        var p = Elements.ByZ(z).TablePosition;
        return ((int)p.Channel, p.Row, p.Column);
    }

    /// <summary>Flat index of element Z's cell in a (4, 7, 32) image.</summary>
    public static int FlatIndex(int z)
    {
        var (c, r, col) = Cell(z);
        return (c * Rows + r) * Columns + col;
    }
}
