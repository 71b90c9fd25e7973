using System.Globalization;

namespace Kiago.Chemistry;

/// <summary>
/// Recursive-descent parser for the formula grammar pymatgen accepts: element symbols ([A-Z][a-z]*) with optional
/// amounts (integer, decimal, optional exponent), groups in (), [] or {} with optional multipliers, nested to any
/// depth, whitespace between tokens. Repeated elements are summed in order of first appearance; zero amounts drop
/// out (as in pymatgen). Every error names its 1-based column.
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
        var terms = new List<(Element Element, double Amount)>();
        parser.ParseSequence(terms, closer: null, openedAt: -1);
        if (terms.Count == 0)
            throw parser.Error(0, FormulaError.Empty, "empty formula");
        var composition = Composition.FromTerms(terms);
        if (composition.Count == 0)
            throw parser.Error(0, FormulaError.Empty, "formula has no atoms (every amount is zero)");
        return composition;
    }

    void ParseSequence(List<(Element, double)> terms, char? closer, int openedAt)
    {
        while (true)
        {
            SkipWhitespace();
            if (pos >= formula.Length)
            {
                if (closer is not null)
                    throw Error(openedAt, FormulaError.UnbalancedParenthesis, $"unbalanced parenthesis: '{formula[openedAt]}' is never closed");
                return;
            }
            char c = formula[pos];
            if (c is ')' or ']' or '}')
            {
                if (closer is null)
                    throw Error(pos, FormulaError.UnbalancedParenthesis, $"unbalanced parenthesis: '{c}' has no matching opening bracket");
                if (c != closer)
                    throw Error(pos, FormulaError.MismatchedBracket, $"'{formula[openedAt]}' at column {openedAt + 1} is closed by '{c}'");
                return;
            }
            if (c is '(' or '[' or '{')
                ParseGroup(terms);
            else if (char.IsAsciiLetterUpper(c))
                ParseElement(terms);
            else if (c == '-')
                throw Error(pos, FormulaError.NegativeAmount, "negative amount");
            else if (char.IsAsciiDigit(c) || c == '.')
                throw Error(pos, FormulaError.UnexpectedCharacter, $"amount '{c}' without an element before it");
            else
                throw Error(pos, FormulaError.UnexpectedCharacter, $"unexpected character '{c}'");
        }
    }

    void ParseGroup(List<(Element, double)> terms)
    {
        int open = pos;
        char closer = formula[pos] switch { '(' => ')', '[' => ']', _ => '}' };
        pos++;
        var inner = new List<(Element, double)>();
        ParseSequence(inner, closer, open);
        if (inner.Count == 0)
            throw Error(open, FormulaError.EmptyGroup, $"empty group '{formula[open]}{closer}'");
        pos++; // the closer
        double multiplier = ParseOptionalAmount();
        foreach (var (element, amount) in inner)
            terms.Add((element, amount * multiplier));
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
