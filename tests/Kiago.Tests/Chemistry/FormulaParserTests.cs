using Kiago.Chemistry;

namespace Kiago.Tests.Chemistry;

public class FormulaParserTests
{
    static void AssertAmounts(string formula, params (string Symbol, double Amount)[] expected)
    {
        var c = Composition.Parse(formula);
        Assert.Equal(expected.Select(x => x.Symbol), c.Elements.Select(e => e.Symbol));
        Assert.Equal(expected.Select(x => x.Amount), c.Amounts);
    }

    [Fact]
    public void Plain_symbols_and_amounts()
    {
        AssertAmounts("Y1Ba2Cu3O6.95", ("Y", 1), ("Ba", 2), ("Cu", 3), ("O", 6.95));
        AssertAmounts("NaCl", ("Na", 1), ("Cl", 1));
        AssertAmounts("Mo99.962Co0.038", ("Mo", 99.962), ("Co", 0.038));
        AssertAmounts("H.5", ("H", 0.5));
        AssertAmounts("Fe2e-3", ("Fe", 2e-3));
    }

    [Fact]
    public void Groups_multiply_and_nest()
    {
        // (SO4)2: S 1·2 = 2, O 4·2 = 8.
        AssertAmounts("Fe2(SO4)3", ("Fe", 2), ("S", 3), ("O", 12));
        // [Ca(OH)2]3: Ca 3, O 1·2·3 = 6, H 6.
        AssertAmounts("[Ca(OH)2]3", ("Ca", 3), ("O", 6), ("H", 6));
        AssertAmounts("{Li0.5}2", ("Li", 1));
        AssertAmounts("(CH3)2.5", ("C", 2.5), ("H", 7.5));
    }

    [Fact]
    public void Repeats_are_summed_in_order_of_first_appearance()
    {
        // CH3COOH: C 1+1, H 3+1, O 1+1.
        AssertAmounts("CH3COOH", ("C", 2), ("H", 4), ("O", 2));
    }

    [Fact]
    public void Whitespace_between_tokens_is_ignored()
    {
        AssertAmounts("  Fe 2 O 3 ", ("Fe", 2), ("O", 3));
        AssertAmounts("Ba2 ( Cu O2 ) 2", ("Ba", 2), ("Cu", 2), ("O", 4));
    }

    [Fact]
    public void Zero_amounts_drop_out_like_pymatgen()
    {
        AssertAmounts("Fe1Co0O2", ("Fe", 1), ("O", 2));
    }

    [Theory]
    [InlineData("BaCuXx2", 5, FormulaError.UnknownElement, "unknown element \"Xx\"")]
    [InlineData("Fe2(SO4", 4, FormulaError.UnbalancedParenthesis, "'(' is never closed")]
    [InlineData("Fe2SO4)", 7, FormulaError.UnbalancedParenthesis, "')' has no matching")]
    [InlineData("Fe(SO4]", 7, FormulaError.MismatchedBracket, "'(' at column 3 is closed by ']'")]
    [InlineData("Fe()2", 3, FormulaError.EmptyGroup, "empty group")]
    [InlineData("", 1, FormulaError.Empty, "empty formula")]
    [InlineData("   ", 1, FormulaError.Empty, "empty formula")]
    [InlineData("Fe0", 1, FormulaError.Empty, "no atoms")]
    [InlineData("Fe-2O3", 3, FormulaError.NegativeAmount, "negative amount")]
    [InlineData("Fe2O.", 5, FormulaError.MalformedAmount, "no digits")]
    [InlineData("Fe2.5.1", 6, FormulaError.MalformedAmount, "second decimal point")]
    [InlineData("Fe1e999", 3, FormulaError.NonFiniteAmount, "not finite")]
    [InlineData("2Fe", 1, FormulaError.UnexpectedCharacter, "without an element")]
    [InlineData("Fe+O", 3, FormulaError.UnexpectedCharacter, "unexpected character '+'")]
    [InlineData("fe2", 1, FormulaError.UnexpectedCharacter, "unexpected character 'f'")]
    public void Errors_carry_column_and_reason(string formula, int column, FormulaError error, string reasonPart)
    {
        var e = Assert.Throws<FormulaParseException>(() => Composition.Parse(formula));
        Assert.Equal(column, e.Column);
        Assert.Equal(error, e.Error);
        Assert.Contains(reasonPart, e.Reason);
        Assert.Contains($"at column {column}", e.Message);
        Assert.False(Composition.TryParse(formula, out _, out var again));
        Assert.Equal(column, again.Column);
    }
}
