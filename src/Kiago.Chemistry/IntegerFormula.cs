namespace Kiago.Chemistry;

/// <summary>Whole-number atom counts per element (positive), e.g. from <see cref="Composition.ToIntegerFormula"/>.</summary>
public sealed class IntegerFormula
{
    readonly Element[] elements;
    readonly long[] counts;

    public IntegerFormula(Element[] elements, long[] counts)
    {
        if (elements.Length != counts.Length) throw new ArgumentException("elements and counts differ in length");
        if (counts.Any(c => c <= 0)) throw new ArgumentOutOfRangeException(nameof(counts), "counts must be positive");
        if (elements.Distinct().Count() != elements.Length) throw new ArgumentException("repeated element", nameof(elements));
        this.elements = elements;
        this.counts = counts;
    }

    public IReadOnlyList<Element> Elements => elements;
    public IReadOnlyList<long> Counts => counts;
    public long TotalAtoms => counts.Sum();

    public Composition ToComposition() =>
        Composition.FromAmounts(elements.Select((e, i) => KeyValuePair.Create(e, (double)counts[i])));

    /// <summary>E.g. "Ba2Cu3O7" in stored order (every count written).</summary>
    public override string ToString() => string.Concat(elements.Select((e, i) => e.Symbol + counts[i]));
}
