using System.Globalization;

namespace Kiago.Chemistry;

/// <summary>
/// Parser for the formula grammar pymatgen accepts: element symbols ([A-Z][a-z]*) with optional amounts (integer,
/// decimal, optional exponent), groups in (), [] or {} with optional multipliers, nested to any depth, whitespace
/// between tokens. Repeated elements are summed in order of first appearance; zero amounts drop out (as in pymatgen).
/// Every error names its 1-based column. Groups are parsed with an explicit stack, not recursion, so no input can
/// overflow the call stack; amounts whose products or sums overflow to infinity are errors, not infinite atoms.
/// </summary>
internal ref struct FormulaParser
{
    readonly string formula;
    int pos;

    FormulaParser(string formula)
    {
        this.formula = formula;
        pos = 0;
    }

    public static Composition Parse(string formula)
    {
        ArgumentNullException.ThrowIfNull(formula);
        var parser = new FormulaParser(formula);
        var terms = parser.ParseTerms();
        if (terms.Count == 0)
            throw parser.Error(0, FormulaError.Empty, "empty formula");
        double total = 0;
        foreach (var (_, amount) in terms) total += amount;
        if (!double.IsFinite(total))
            throw parser.Error(0, FormulaError.NonFiniteAmount, "the amounts add up to more than a double can hold (the total is not finite)");
        var composition = Composition.FromTerms(terms);
        if (composition.Count == 0)
            throw parser.Error(0, FormulaError.Empty, "formula has no atoms (every amount is zero)");
        return composition;
    }

    /// <summary>An open group: the terms outside it, its closing bracket, and where it opened.</summary>
    readonly record struct OpenGroup(List<(Element, double)> Outer, char Closer, int OpenedAt);

    List<(Element, double)> ParseTerms()
    {
        var open = new Stack<OpenGroup>();
        var terms = new List<(Element, double)>();
        while (true)
        {
            SkipWhitespace();
            if (pos >= formula.Length)
            {
                if (open.TryPeek(out var unclosed))
                    throw Error(unclosed.OpenedAt, FormulaError.UnbalancedParenthesis, $"unbalanced parenthesis: '{formula[unclosed.OpenedAt]}' is never closed");
                return terms;
            }
            char c = formula[pos];
            if (c is ')' or ']' or '}')
            {
                if (!open.TryPop(out var group))
                    throw Error(pos, FormulaError.UnbalancedParenthesis, $"unbalanced parenthesis: '{c}' has no matching opening bracket");
                if (c != group.Closer)
                    throw Error(pos, FormulaError.MismatchedBracket, $"'{formula[group.OpenedAt]}' at column {group.OpenedAt + 1} is closed by '{c}'");
                if (terms.Count == 0)
                    throw Error(group.OpenedAt, FormulaError.EmptyGroup, $"empty group '{formula[group.OpenedAt]}{group.Closer}'");
                pos++; // the closer
                int multiplierAt = pos;
                double multiplier = ParseOptionalAmount();
                foreach (var (element, amount) in terms)
                {
                    double product = amount * multiplier;
                    if (!double.IsFinite(product))
                        throw Error(multiplierAt, FormulaError.NonFiniteAmount,
                            $"the group at column {group.OpenedAt + 1} times {multiplier.ToString("R", CultureInfo.InvariantCulture)} gives {element.Symbol} an amount that is not finite");
                    group.Outer.Add((element, product));
                }
                terms = group.Outer;
            }
            else if (c is '(' or '[' or '{')
            {
                open.Push(new OpenGroup(terms, c switch { '(' => ')', '[' => ']', _ => '}' }, pos));
                terms = [];
                pos++;
            }
            else if (char.IsAsciiLetterUpper(c))
                ParseElement(terms);
            else if (c == '-')
                throw Error(pos, FormulaError.NegativeAmount, "negative amount");
            else if (char.IsAsciiDigit(c) || c == '.')
                throw Error(pos, FormulaError.UnexpectedCharacter, $"amount '{c}' without an element before it");
            else
                throw Error(pos, FormulaError.UnexpectedCharacter, $"unexpected character '{InputText.Escape(c)}'");
        }
    }

    void ParseElement(List<(Element, double)> terms)
    {
        int start = pos++;
        while (pos < formula.Length && char.IsAsciiLetterLower(formula[pos])) pos++;
        var symbol = formula.AsSpan(start, pos - start);
        if (!Elements.TryGet(symbol, out var element))
            throw Error(start, FormulaError.UnknownElement, $"unknown element \"{symbol}\"");
        terms.Add((element, ParseOptionalAmount()));
    }

    /// <summary>Amount after a symbol or group: absent means 1.</summary>
    double ParseOptionalAmount()
    {
        SkipWhitespace();
        if (pos >= formula.Length) return 1.0;
        char c = formula[pos];
        if (c == '-')
            throw Error(pos, FormulaError.NegativeAmount, "negative amount");
        if (!char.IsAsciiDigit(c) && c != '.') return 1.0;

        int start = pos;
        int digits = ScanDigits();
        if (pos < formula.Length && formula[pos] == '.')
        {
            pos++;
            digits += ScanDigits();
        }
        if (digits == 0)
            throw Error(start, FormulaError.MalformedAmount, "amount '.' has no digits");
        if (pos < formula.Length && formula[pos] is 'e' or 'E' && ExponentFollows())
        {
            pos++;
            if (formula[pos] is '+' or '-') pos++;
            ScanDigits();
        }
        if (pos < formula.Length && formula[pos] == '.')
            throw Error(pos, FormulaError.MalformedAmount, "amount has a second decimal point");
        var text = formula.AsSpan(start, pos - start);
        double value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
            throw Error(start, FormulaError.NonFiniteAmount, $"amount \"{text}\" is not finite");
        return value;
    }

    bool ExponentFollows()
    {
        int p = pos + 1;
        if (p < formula.Length && formula[p] is '+' or '-') p++;
        return p < formula.Length && char.IsAsciiDigit(formula[p]);
    }

    int ScanDigits()
    {
        int start = pos;
        while (pos < formula.Length && char.IsAsciiDigit(formula[pos])) pos++;
        return pos - start;
    }

    void SkipWhitespace()
    {
        while (pos < formula.Length && char.IsWhiteSpace(formula[pos])) pos++;
    }

    readonly FormulaParseException Error(int index, FormulaError error, string reason) =>
        new(formula, index + 1, error, reason);
}
