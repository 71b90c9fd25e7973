using System.Diagnostics.CodeAnalysis;
using Table = Kiago.Chemistry.Elements;
using System.Numerics;
using System.Text;

namespace Kiago.Chemistry;

/// <summary>
/// Element amounts, kept in order of first appearance (like a pymatgen Composition: SMACT's Pauling test walks
/// elements in this order). Immutable; amounts are finite and positive. Equality ignores order.
/// </summary>
public sealed class Composition : IEquatable<Composition>
{
    /// <summary>pymatgen's <c>Composition.amount_tolerance</c>: how close to an integer counts as integral.</summary>
    public const double IntegerTolerance = 1e-8;

    readonly Element[] elements;
    readonly double[] amounts;

    Composition(Element[] elements, double[] amounts)
    {
        this.elements = elements;
        this.amounts = amounts;
    }

    /// <summary>Parses a formula (pymatgen grammar); throws <see cref="FormulaParseException"/> with column and reason.</summary>
    public static Composition Parse(string formula) => FormulaParser.Parse(formula);

    public static bool TryParse(string formula, [NotNullWhen(true)] out Composition? composition,
        [NotNullWhen(false)] out FormulaParseException? error)
    {
        try
        {
            composition = FormulaParser.Parse(formula);
            error = null;
            return true;
        }
        catch (FormulaParseException e)
        {
            composition = null;
            error = e;
            return false;
        }
    }

    /// <summary>From (element, amount) pairs: repeats are summed, zeros dropped; negative or non-finite amounts throw.</summary>
    public static Composition FromAmounts(IEnumerable<KeyValuePair<Element, double>> amounts) =>
        FromTerms(amounts.Select(kv => (kv.Key, kv.Value)));

    /// <summary>From a 118-long vector indexed by Z − 1 (amounts or fractions); zeros are skipped; Z order.</summary>
    public static Composition FromVector(ReadOnlySpan<double> amountsByIndex)
    {
        if (amountsByIndex.Length != Table.Count)
            throw new ArgumentException($"vector length {amountsByIndex.Length}, expected {Table.Count}", nameof(amountsByIndex));
        var terms = new List<(Element, double)>();
        for (int i = 0; i < amountsByIndex.Length; i++)
            if (amountsByIndex[i] != 0) terms.Add((Table.All[i], amountsByIndex[i]));
        return FromTerms(terms);
    }

    internal static Composition FromTerms(IEnumerable<(Element Element, double Amount)> terms)
    {
        var order = new List<Element>();
        Span<double> sums = stackalloc double[Table.Count];
        foreach (var (element, amount) in terms)
        {
            if (!double.IsFinite(amount) || amount < 0)
                throw new ArgumentOutOfRangeException(nameof(terms), amount, $"amount of {element} must be finite and ≥ 0");
            if (amount == 0) continue;
            if (sums[element.Index] == 0) order.Add(element);
            sums[element.Index] += amount;
        }
        var values = new double[order.Count];
        double total = 0;
        for (int i = 0; i < values.Length; i++) total += values[i] = sums[order[i].Index];
        if (!double.IsFinite(total))
            throw new ArgumentOutOfRangeException(nameof(terms), total, "the amounts add up to a total that is not finite");
        return new Composition([.. order], values);
    }

    /// <summary>Number of distinct elements.</summary>
    public int Count => elements.Length;
    /// <summary>Elements in order of first appearance.</summary>
    public IReadOnlyList<Element> Elements => elements;
    /// <summary>Amounts, aligned with <see cref="Elements"/>.</summary>
    public IReadOnlyList<double> Amounts => amounts;
    public double TotalAtoms => amounts.Sum();

    /// <summary>Amount of an element; 0 when absent.</summary>
    public double this[Element element]
    {
        get
        {
            int i = Array.IndexOf(elements, element);
            return i < 0 ? 0 : amounts[i];
        }
    }

    public bool Contains(Element element) => Array.IndexOf(elements, element) >= 0;

    /// <summary>Amounts scaled to sum to 1.</summary>
    public Composition Normalise()
    {
        double total = TotalAtoms;
        return new(elements, [.. amounts.Select(a => a / total)]);
    }

    /// <summary>Atom fractions on the 118-long axis (index Z − 1).</summary>
    public double[] ToFractionVector()
    {
        var v = new double[Table.Count];
        WriteFractions(v);
        return v;
    }

    /// <summary>Writes atom fractions into a 118-long span (cleared first).</summary>
    public void WriteFractions(Span<double> destination) => WriteFractions<double>(destination);

    /// <summary>Writes atom fractions into a 118-long float span (cleared first), e.g. a batch row.</summary>
    public void WriteFractions(Span<float> destination) => WriteFractions<float>(destination);

    void WriteFractions<T>(Span<T> destination) where T : IFloatingPoint<T>
    {
        if (destination.Length != Table.Count)
            throw new ArgumentException($"destination length {destination.Length}, expected {Table.Count}", nameof(destination));
        destination.Clear();
        double total = TotalAtoms;
        for (int i = 0; i < elements.Length; i++)
            destination[elements[i].Index] = T.CreateChecked(amounts[i] / total);
    }

    /// <summary>True when every amount is within <see cref="IntegerTolerance"/> of an integer (pymatgen's test).</summary>
    public bool IsIntegral => amounts.All(a => Math.Abs(a - Math.Round(a)) < IntegerTolerance);

    /// <summary>
    /// pymatgen's reduced composition: integral amounts are divided by their gcd (Fe4O6 → Fe2O3); any fractional
    /// amount leaves the composition unchanged (Y1Ba2Cu3O6.95 stays as it is).
    /// </summary>
    public Composition Reduce()
    {
        if (!IsIntegral) return this;
        long gcd = 0;
        foreach (var a in amounts) gcd = (long)BigInteger.GreatestCommonDivisor(gcd, (long)Math.Round(a));
        return gcd <= 1 ? this : new Composition(elements, [.. amounts.Select(a => Math.Round(a) / gcd)]);
    }

    /// <summary>
    /// KIAGO's rounding to a whole formula unit (§5.6): pick N* in 1…<paramref name="maxAtomCount"/> minimising
    /// Σ (x_i − round(x_i N)/N)² over the atom fractions x (ties to the smaller N), then round(x N*) half-to-even.
    /// Elements that round to 0 drop out. Returns null when every element rounds to 0 (cannot happen for N = maxAtomCount ≥ 1 and a sane composition).
    /// </summary>
    public IntegerFormula? ToIntegerFormula(int maxAtomCount)
    {
        if (maxAtomCount < 1) throw new ArgumentOutOfRangeException(nameof(maxAtomCount), maxAtomCount, "must be ≥ 1");
        double total = TotalAtoms;
        int best = 1;
        double bestError = double.PositiveInfinity;
        for (int n = 1; n <= maxAtomCount; n++)
        {
            double error = 0;
            foreach (var a in amounts)
            {
                double x = a / total, d = x - Math.Round(x * n, MidpointRounding.ToEven) / n;
                error += d * d;
            }
            if (error < bestError) (best, bestError) = (n, error);
        }
        var counts = amounts.Select(a => (long)Math.Round(a / total * best, MidpointRounding.ToEven)).ToArray();
        var kept = Enumerable.Range(0, counts.Length).Where(i => counts[i] > 0).ToArray();
        return kept.Length == 0 ? null : new IntegerFormula([.. kept.Select(i => elements[i])], [.. kept.Select(i => counts[i])]);
    }

    /// <summary>
    /// KIAGO's screening integerisation (§7.1): each amount → Fraction(v).limit_denominator(10⁶), multiply by the
    /// LCM of the denominators, round, divide by the gcd. Exact (arbitrary precision) like Python.
    /// </summary>
    public BigInteger[] IntegerCounts(long maxDenominator = 1_000_000)
    {
        var fractions = amounts.Select(a => Rationals.LimitDenominator(a, maxDenominator)).ToArray();
        var lcm = fractions.Aggregate(BigInteger.One, (acc, f) => Rationals.Lcm(acc, f.Denominator));
        // n/d · lcm is exact, so Python's round() of it is the integer itself.
        var counts = fractions.Select(f => f.Numerator * (lcm / f.Denominator)).ToArray();
        var gcd = counts.Aggregate(BigInteger.Zero, BigInteger.GreatestCommonDivisor);
        return gcd <= 1 ? counts : [.. counts.Select(c => c / gcd)];
    }

    /// <summary>Formula in stored order with plain-decimal amounts, e.g. "Y1Ba2Cu3O6.95"; parses back to an equal composition.</summary>
    public string ToFormulaString() => Print(Enumerable.Range(0, elements.Length));

    /// <summary>Canonical print: elements in Z order, every amount written (shortest round-trip decimal). Equal compositions print equally.</summary>
    public string ToCanonicalString() => Print(Enumerable.Range(0, elements.Length).OrderBy(i => elements[i].Z));

    string Print(IEnumerable<int> order)
    {
        var sb = new StringBuilder();
        foreach (int i in order) sb.Append(elements[i].Symbol).Append(AmountFormat.Format(amounts[i]));
        return sb.ToString();
    }

    public override string ToString() => ToFormulaString();

    /// <summary>Same elements with exactly equal amounts, in any order.</summary>
    public bool Equals(Composition? other) =>
        other is not null && other.Count == Count && elements.Select((e, i) => other[e] == amounts[i]).All(x => x);

    /// <summary>Same elements, amounts within <paramref name="tolerance"/> (pymatgen's equality uses 1e-8).</summary>
    public bool AlmostEquals(Composition other, double tolerance = IntegerTolerance) =>
        other.Count == Count && elements.Select((e, i) => other.Contains(e) && Math.Abs(other[e] - amounts[i]) <= tolerance).All(x => x);

    public override bool Equals(object? obj) => Equals(obj as Composition);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (int i in Enumerable.Range(0, elements.Length).OrderBy(i => elements[i].Z))
        {
            hash.Add(elements[i].Z);
            hash.Add(amounts[i]);
        }
        return hash.ToHashCode();
    }
}
