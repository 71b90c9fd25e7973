using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>
/// The text of the run's tables: candidates.csv, summary.csv, summary.json, traces.csv. Numbers print with
/// the invariant culture, floats as their shortest round-trip form, NaN as "NaN" in CSV and null in JSON, so
/// the same results always give the same bytes.
/// </summary>
public static class DesignTables
{
    public static readonly string[] CandidateColumns =
    [
        "base_index", "base", "rank", "candidate", "degenerate", "stage1_composition", "final_composition", "formula",
        "formula_atoms", "n_atoms", "n_elements", "integer_loss", "tc_continuous", "ef_continuous", "tc_rounded", "ef_rounded",
        "unique", "valid", "neutral", "electronegativity", "ef_negative", "all_pass",
        "known", "nearest_known", "nearest_known_distance", "nearest_known_tc",
        "tc_sigma_K", "ef_sigma_eV_per_atom", "tc_domain", "ef_domain", "reasons",
    ];

    /// <summary>The optional last column of candidates.csv, written only when the run has a hull reference (--hull-reference).</summary>
    public const string EnergyAboveHullColumn = "e_above_hull";

    /// <summary>
    /// candidates.csv's columns: <see cref="CandidateColumns"/>, plus e_above_hull when the run computes it, plus one
    /// column per extra objective value and σ (<see cref="ObjectiveColumns"/>) last.
    /// </summary>
    public static string[] CandidateColumnsFor(bool energyAboveHull, IReadOnlyList<string>? objectiveColumns = null) =>
        [.. CandidateColumns, .. energyAboveHull ? new[] { EnergyAboveHullColumn } : [], .. objectiveColumns ?? []];

    /// <summary>The columns of the extra objectives, in order: NAME, and NAME_sigma when the model has uncertainty data.</summary>
    public static string[] ObjectiveColumns(IEnumerable<ExtraObjective> objectives) =>
        [.. objectives.SelectMany(o => o.HasSigma ? new[] { o.Name, o.Name + "_sigma" } : [o.Name])];

    public static readonly string[] SummaryColumns =
    [
        "base_index", "base", "substitution", "base_tc", "base_ef", "candidates", "degenerate", "unique", "unique_rate",
        "valid_rate", "neutral_rate_in_valid", "electronegativity_rate_in_valid", "ef_negative_rate", "all_pass_rate",
        "best_tc_rounded", "delta_tc_top10", "delta_tc_top30", "delta_tc_top50", "novel_all_pass",
    ];

    public static readonly string[] TraceColumns =
    [
        "base_index", "step", "stage", "integer_weight", "best_tc", "mean_tc", "mean_ef", "mean_integer_loss", "mean_loss", "degenerate",
    ];

    public static string Header(string[] columns) => Line(columns);

    /// <summary>
    /// The rows of candidates.csv; with <paramref name="energyAboveHull"/> (one value per row, eV/atom; NaN where the
    /// row has no hull value) the e_above_hull column is appended.
    /// </summary>
    public static string CandidateLines(IEnumerable<CandidateRow> rows, IReadOnlyList<double>? energyAboveHull = null)
    {
        var sb = new StringBuilder();
        int index = 0;
        foreach (var r in rows)
        {
            string[] fields = [
                I(r.BaseIndex), r.Base, I(r.Rank), I(r.Candidate), B(r.Degenerate), r.Stage1Composition, r.FinalComposition,
                r.Formula, r.Formula.Length == 0 ? "" : F(r.FormulaAtoms), I(r.N), I(r.Elements), F(r.IntegerLoss), F(r.TcContinuous),
                F(r.EfContinuous), F(r.TcRounded), F(r.EfRounded), B(r.Unique), B(r.Valid), B(r.Neutral), B(r.Electronegativity),
                B(r.EfNegative), B(r.AllPass),
                double.IsNaN(r.Novelty.Distance) ? "" : B(r.Novelty.Known), r.Novelty.NearestFormula, Blank(r.Novelty.Distance),
                Blank(r.Novelty.NearestTcKelvin), Blank(r.TcSigma), Blank(r.EfSigma), Blank(r.TcDomain), Blank(r.EfDomain), r.Reasons,
            ];
            // r.Objectives is empty in runs without --objective, so their bytes are unchanged
            sb.Append(Line([.. fields, .. energyAboveHull is null ? [] : new[] { F(energyAboveHull[index]) }, .. r.Objectives.Select(Blank)]));
            index++;
        }
        return sb.ToString();
    }

    public static string SummaryLine(BaseSummary s) => Line([
        I(s.BaseIndex), s.Base, s.Substitution, F(s.BaseTc), F(s.BaseEf), I(s.Candidates), I(s.Degenerate), I(s.Unique),
        F(s.UniqueRate), F(s.ValidRate), F(s.NeutralRateInValid), F(s.ElectronegativityRateInValid), F(s.EfNegativeRate),
        F(s.AllPassRate), F(s.BestTcRounded), F(s.DeltaTcTop10), F(s.DeltaTcTop30), F(s.DeltaTcTop50), I(s.NovelAllPass),
    ]);

    public static string TraceLines(int baseIndex, IEnumerable<TracePoint> trace)
    {
        var sb = new StringBuilder();
        foreach (var p in trace)
            sb.Append(Line([I(baseIndex), I(p.Step), I(p.Stage), F(p.IntegerWeight), F(p.BestTc), F(p.MeanTc), F(p.MeanEf),
                F(p.MeanIntegerLoss), F(p.MeanLoss), I(p.Flagged)]));
        return sb.ToString();
    }

    /// <summary>One summary as a JSON object (keys = the summary.csv columns).</summary>
    public static string SummaryJson(BaseSummary s)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            WriteSummary(w, s);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static void WriteSummary(Utf8JsonWriter w, BaseSummary s)
    {
        w.WriteStartObject();
        w.WriteNumber("base_index", s.BaseIndex);
        w.WriteString("base", s.Base);
        w.WriteString("substitution", s.Substitution);
        Num(w, "base_tc", s.BaseTc); Num(w, "base_ef", s.BaseEf);
        w.WriteNumber("candidates", s.Candidates); w.WriteNumber("degenerate", s.Degenerate); w.WriteNumber("unique", s.Unique);
        Num(w, "unique_rate", s.UniqueRate); Num(w, "valid_rate", s.ValidRate);
        Num(w, "neutral_rate_in_valid", s.NeutralRateInValid); Num(w, "electronegativity_rate_in_valid", s.ElectronegativityRateInValid);
        Num(w, "ef_negative_rate", s.EfNegativeRate); Num(w, "all_pass_rate", s.AllPassRate);
        Num(w, "best_tc_rounded", s.BestTcRounded);
        Num(w, "delta_tc_top10", s.DeltaTcTop10); Num(w, "delta_tc_top30", s.DeltaTcTop30); Num(w, "delta_tc_top50", s.DeltaTcTop50);
        w.WriteNumber("novel_all_pass", s.NovelAllPass);
        w.WriteEndObject();
    }

    static void Num(Utf8JsonWriter w, string name, double v)
    {
        if (double.IsFinite(v)) w.WriteNumber(name, v); else w.WriteNull(name);
    }

    static string Line(string[] fields)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < fields.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(CsvWriter.Quote(fields[i]));
        }
        return sb.Append('\n').ToString();
    }

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string B(bool v) => v ? "true" : "false";
    static string F(double v) => double.IsNaN(v) ? "NaN" : ((float)v).ToString("R", CultureInfo.InvariantCulture);
    /// <summary>Optional values (novelty, σ, domain): empty where there is none, so "no value" never reads as a number.</summary>
    static string Blank(double v) => double.IsNaN(v) ? "" : F(v);
}
