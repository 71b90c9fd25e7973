namespace Kiago.Chemistry;

/// <summary>Why a formula string was rejected.</summary>
public enum FormulaError
{
    Empty,
    UnknownElement,
    UnexpectedCharacter,
    UnbalancedParenthesis,
    MismatchedBracket,
    EmptyGroup,
    MalformedAmount,
    NegativeAmount,
    NonFiniteAmount,
}

/// <summary>A formula could not be parsed. <see cref="Column"/> is 1-based into <see cref="Formula"/>.</summary>
public sealed class FormulaParseException : InputException
{
    public FormulaParseException(string formula, int column, FormulaError error, string reason)
        : base($"{reason} at column {column} in formula {InputText.Quote(formula, column - 1)}")
    {
        Formula = formula;
        Column = column;
        Error = error;
        Reason = reason;
    }

    public string Formula { get; }
    public int Column { get; }
    public FormulaError Error { get; }
    /// <summary>The reason without position, e.g. <c>unknown element "Xx"</c>.</summary>
    public string Reason { get; }
}
