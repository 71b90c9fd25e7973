using Kiago.Design.Pipeline;

namespace Kiago.Tests.Design.Trust;

/// <summary>
/// Every rate of summary.csv is a share of its own denominator (issue 12 item 5): each test builds rows where a wrong
/// denominator or numerator gives a different value, including invalid rows that claim neutral / electronegativity
/// (the hydride screen's shape that produced electronegativity_rate_in_valid = 67/66).
/// </summary>
public sealed class SummaryRateTests
{
    static CandidateRow Row(int rank, string formula, bool unique, bool valid, bool neutral, bool eneg, bool efNeg, double tc = 10) =>
        new(0, "B", rank, rank, false, "", "", formula, 4, 2, 0, tc, -1, tc, efNeg ? -1 : 1, unique, valid, neutral, eneg, efNeg,
            unique && valid && neutral && eneg && efNeg, "");

    // 10 rows: 8 unique; of the unique 5 valid; invalid rows claim neutral and electronegativity (hydride shape)
    static readonly CandidateRow[] Rows =
    [
        Row(1, "A1", true, true, true, true, true, 50),
        Row(2, "A2", true, true, true, false, true, 40),
        Row(3, "A3", true, true, false, false, false, 30),
        Row(4, "A4", true, true, true, true, false, 20),
        Row(5, "A5", true, true, false, true, true, 10),
        Row(6, "B1", true, false, true, true, true),
        Row(7, "B2", true, false, true, true, false),
        Row(8, "B3", true, false, false, true, true),
        Row(9, "A1", false, true, true, true, true),
        Row(10, "A2", false, true, true, true, true),
    ];

    static BaseSummary Summary() => BaseSummaries.Summarise(0, "B", "", 5, -1, Rows, 0, 0);

    [Fact] public void Unique_rate_is_unique_rows_over_all_rows() => Assert.Equal(8.0 / 10, Summary().UniqueRate, 12);
    [Fact] public void Valid_rate_is_valid_unique_rows_over_unique_rows() => Assert.Equal(5.0 / 8, Summary().ValidRate, 12);

    [Fact]
    public void Neutral_rate_counts_only_valid_unique_rows_over_valid_unique_rows()
    {
        // valid unique neutral: A1, A2, A4 = 3 of 5 (the invalid B1, B2 claim neutral and must not count)
        Assert.Equal(3.0 / 5, Summary().NeutralRateInValid, 12);
    }

    [Fact]
    public void Electronegativity_rate_counts_only_valid_unique_rows_over_valid_unique_rows()
    {
        // valid unique eneg: A1, A4, A5 = 3 of 5 (B1..B3 claim it; counting them gives 6/5 > 1, the hydride bug)
        Assert.Equal(3.0 / 5, Summary().ElectronegativityRateInValid, 12);
    }

    [Fact] public void Ef_negative_rate_is_over_unique_rows() => Assert.Equal(5.0 / 8, Summary().EfNegativeRate, 12); // A1 A2 A5 B1 B3

    [Fact] public void All_pass_rate_is_over_unique_rows() => Assert.Equal(1.0 / 8, Summary().AllPassRate, 12); // A1 only

    [Fact]
    public void Every_rate_is_a_share_between_zero_and_one_even_when_every_invalid_row_claims_every_check()
    {
        var rows = Enumerable.Range(1, 67).Select(i => Row(i, $"H{i}", true, i <= 66, true, true, true)).ToArray();
        var s = BaseSummaries.Summarise(0, "LaH10", "", 5, -1, rows, 0, 0);
        foreach (var rate in new[] { s.UniqueRate, s.ValidRate, s.NeutralRateInValid, s.ElectronegativityRateInValid, s.EfNegativeRate, s.AllPassRate })
            Assert.InRange(rate, 0, 1);
        Assert.Equal(1.0, s.ElectronegativityRateInValid, 12);
    }
}
