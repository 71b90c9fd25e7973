using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>
/// Reads back what <see cref="DesignTables"/> writes (candidates.csv rows without their header, one summary JSON
/// object), by column name, for outputs rendered from a run's parts (the experiment's tables.md). Floats come back
/// as the float32 values that were printed, so every rendering from the same parts gives the same bytes.
/// </summary>
public static class DesignTableReader
{
    public static List<CandidateRow> Candidates(string text, string source)
    {
        var rows = new List<CandidateRow>();
        if (text.Length == 0) return rows;
        var columns = DesignTables.CandidateColumns;
        int Col(string name) => Array.IndexOf(columns, name);
        using var reader = new CsvReader(new MemoryStream(CsvWriter.Utf8.GetBytes(text)), source);
        while (reader.ReadRecord() is { } record)
        {
            var f = record.Fields;
            if (f.Length < columns.Length) throw new UserInputException($"{source}, line {record.Line}: {f.Length} fields, expected {columns.Length}");
            string S(string name) => f[Col(name)];
            int I(string name) => int.Parse(S(name), NumberStyles.Integer, CultureInfo.InvariantCulture);
            double D(string name) => double.Parse(S(name), NumberStyles.Float, CultureInfo.InvariantCulture);
            bool B(string name) => S(name) == "true";
            double Opt(string name) => S(name).Length == 0 ? double.NaN : D(name); // optional values print empty
            rows.Add(new CandidateRow(I("base_index"), S("base"), I("rank"), I("candidate"), B("degenerate"), S("stage1_composition"),
                S("final_composition"), S("formula"), I("n_atoms"), I("n_elements"), D("integer_loss"), D("tc_continuous"),
                D("ef_continuous"), D("tc_rounded"), D("ef_rounded"), B("unique"), B("valid"), B("neutral"), B("electronegativity"),
                B("ef_negative"), B("all_pass"), S("reasons"))
            {
                FormulaAtoms = S("formula_atoms").Length == 0 ? 0 : D("formula_atoms"),
                Novelty = S("known").Length == 0 && S("nearest_known").Length == 0
                    ? Kiago.Design.Novelty.NoveltyVerdict.None
                    : new Kiago.Design.Novelty.NoveltyVerdict(B("known"), S("nearest_known"), Opt("nearest_known_distance"), Opt("nearest_known_tc")),
                TcSigma = Opt("tc_sigma_K"), EfSigma = Opt("ef_sigma_eV_per_atom"), TcDomain = Opt("tc_domain"), EfDomain = Opt("ef_domain"),
            });
        }
        return rows;
    }

    /// <summary>One summary object (null numbers are NaN); the wall time is not in the tables, so it reads as 0.</summary>
    public static BaseSummary Summary(string json)
    {
        using var doc = JsonDocument.Parse(Encoding.UTF8.GetBytes(json));
        var o = doc.RootElement;
        double D(string name) => o.GetProperty(name) is { ValueKind: JsonValueKind.Number } v ? v.GetDouble() : double.NaN;
        int I(string name) => o.GetProperty(name).GetInt32();
        string S(string name) => o.GetProperty(name).GetString() ?? "";
        return new BaseSummary(I("base_index"), S("base"), S("substitution"), D("base_tc"), D("base_ef"), I("candidates"), I("degenerate"),
            I("unique"), D("unique_rate"), D("valid_rate"), D("neutral_rate_in_valid"), D("electronegativity_rate_in_valid"),
            D("ef_negative_rate"), D("all_pass_rate"), D("best_tc_rounded"), D("delta_tc_top10"), D("delta_tc_top30"), D("delta_tc_top50"), 0)
        {
            NovelAllPass = o.TryGetProperty("novel_all_pass", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : 0,
        };
    }
}
