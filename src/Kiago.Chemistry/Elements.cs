using System.Collections.Frozen;

namespace Kiago.Chemistry;

/// <summary>The 118 elements H…Og (facts in ElementData.cs), looked up by Z or symbol.</summary>
public static partial class Elements
{
    /// <summary>Length of the composition axis (index = Z − 1).</summary>
    public const int Count = 118;

    static readonly FrozenDictionary<string, Element> BySymbol =
        Table.ToFrozenDictionary(e => e.Symbol, StringComparer.Ordinal);

    /// <summary>All elements in Z order (index = Z − 1).</summary>
    public static IReadOnlyList<Element> All => Table;

    public static Element ByZ(int z) =>
        z is >= 1 and <= Count ? Table[z - 1] : throw new ArgumentOutOfRangeException(nameof(z), z, "Z must be 1…118");

    /// <summary>Case-sensitive symbol lookup ("Fe", not "fe").</summary>
    public static bool TryGet(string symbol, out Element element) =>
        BySymbol.TryGetValue(symbol, out element!);

    /// <summary>Case-sensitive symbol lookup that also works on a slice of a larger string.</summary>
    public static bool TryGet(ReadOnlySpan<char> symbol, out Element element) =>
        BySymbol.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(symbol, out element!);

    public static Element Get(string symbol) =>
        TryGet(symbol, out var element) ? element : throw new ArgumentException($"unknown element \"{symbol}\"", nameof(symbol));
}
