using System.Globalization;
using System.Text;
using Kiago.Cli.IO;

namespace Kiago.Cli.Report;

/// <summary>Options of <c>kiago report</c>.</summary>
public sealed record ReportOptions(int TopCandidates = 20, int FrequencyTop = 50);

/// <summary>What was written: the report and each figure's path.</summary>
public sealed record ReportFiles(string Markdown, IReadOnlyList<string> Figures, IReadOnlyList<string> Notes);

/// <summary>
/// Writes DIR/report.md and its PNG figures from a run directory: per-base summary, the top candidates (unique,
/// passing every screen, by predicted Tc of the integer formula), Tc vs Ef by verdict, Tc per step, element frequency.
/// Missing inputs are reported in the document (and returned), never fatal.
/// </summary>
public static class ReportWriter
{
    public static ReportFiles Write(string directory, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var data = RunData.Load(directory);
        var notes = new List<string>(data.Notes);
        var figures = new List<(string File, string Caption)>();
        var md = new StringBuilder();
        md.Append("# Kiago report: ").Append(Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'))).Append("\n\n");
        md.Append("Generated ").Append(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture))
          .Append(" from `").Append(directory).Append("`.\n\n");

        var baseTc = (data.Summaries ?? []).GroupBy(s => s.Base).ToDictionary(g => g.Key, g => g.First().BaseTc);
        if (data.Summaries is { Count: > 0 } summaries) WriteSummaries(md, summaries);

        if (data.Candidates is { } candidates)
        {
            var unique = candidates.Where(c => c.Unique).ToArray();
            var passing = unique.Where(c => c.AllPass && double.IsFinite(c.Tc)).OrderByDescending(c => c.Tc).ToArray();
            md.Append("## Top candidates\n\n");
            int novel = passing.Count(c => c.Known == false);
            string novelty = passing.Any(c => c.Known is not null) ? $" ({novel} novel: not in the known-compositions list)" : "";
            md.Append($"{candidates.Count} candidate rows, {unique.Length} unique, {passing.Length} pass every screen{novelty}.\n\n");
            var top = passing;
            if (passing.Length == 0)
            {
                md.Append("No candidate passes every screen; the table lists the best unique candidates with the reasons they fail.\n\n");
                top = [.. unique.Where(c => double.IsFinite(c.Tc)).OrderByDescending(c => c.Tc)];
            }
            WriteTopTable(md, top.Take(options.TopCandidates).ToArray(), baseTc);

            if (unique.Any(c => double.IsFinite(c.Tc) && double.IsFinite(c.Ef)))
                figures.Add(Save(directory, "tc_vs_ef.png", ReportPlots.TcVersusEf(unique,
                        [.. (data.Summaries ?? []).Select(b => new ReportPlots.BaseMark(b.Base, b.BaseTc, b.BaseEf))]),
                    "Predicted Tc against predicted formation energy of the unique integer formulas, coloured by the first screening check each fails; passing formulas black when novel, red when a known compound; the diamond is the base's own prediction."));
            else notes.Add("candidates.csv has no finite Tc/Ef pairs: the Tc–Ef scatter is left out.");

            var frequency = ReportPlots.ElementFrequency(top.Take(options.FrequencyTop).Select(c => c.Formula));
            if (frequency.Count > 0)
            {
                string which = passing.Length > 0 ? "passing" : "unique";
                int k = Math.Min(options.FrequencyTop, top.Length);
                figures.Add(Save(directory, "element_frequency.png",
                    ReportPlots.ElementFrequencyBars(frequency, $"Elements in the top {k} {which} candidates"),
                    $"How many of the top {k} {which} candidates (by predicted Tc) contain each element."));
            }
        }

        if (data.Candidates is { } all && all.Any(c => c.Unique && double.IsFinite(c.Tc) && double.IsFinite(c.TcSigma)))
            figures.Add(Save(directory, "tc_vs_sigma.png", ReportPlots.TcVersusSigma([.. all.Where(c => c.Unique)]),
                "Predicted Tc of the unique integer formulas against the Tc model's σ: candidates high and to the left are both promising and trusted."));

        if (data.Traces is { Count: > 0 } traces)
            figures.Add(Save(directory, "tc_per_step.png", ReportPlots.TcPerStep(traces, baseNames: (data.Summaries ?? [])
                    .GroupBy(b => b.BaseIndex).ToDictionary(g => g.Key, g => g.First().Base)),
                "Best (solid) and mean (dashed) predicted Tc of the candidates at each recorded optimisation step."));

        if (figures.Count > 0)
        {
            md.Append("## Figures\n\n");
            foreach (var (file, caption) in figures)
                md.Append("![").Append(Path.GetFileNameWithoutExtension(file).Replace('_', ' ')).Append("](").Append(file).Append(")\n\n*").Append(caption).Append("*\n\n");
        }
        if (notes.Count > 0)
        {
            md.Append("## Notes\n\n");
            foreach (var n in notes) md.Append("- ").Append(n).Append('\n');
            md.Append('\n');
        }
        var mdPath = Path.Combine(directory, "report.md");
        AtomicFile.Write(mdPath, w => w.Write(md.ToString()));
        return new ReportFiles(mdPath, [.. figures.Select(f => Path.Combine(directory, f.File))], notes);
    }

    static void WriteSummaries(StringBuilder md, IReadOnlyList<ReportSummary> summaries)
    {
        md.Append("## Summary per base\n\n");
        md.Append("Rates are over unique formulas; neutral and electronegativity rates are among valid ones; ΔTc top-K is the mean of the K largest Tc − Tc(base) among formulas passing every screen.\n\n");
        md.Append("| base | Tc(base) K | unique | valid | neutral | EN | Ef<0 | all pass | novel all-pass | ΔTc top-10 | ΔTc top-30 | ΔTc top-50 |\n");
        md.Append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var s in summaries)
            md.Append($"| {s.Base} | {K(s.BaseTc)} | {R(s.UniqueRate)} | {R(s.ValidRate)} | {R(s.NeutralRateInValid)} | {R(s.ElectronegativityRateInValid)} | {R(s.EfNegativeRate)} | {R(s.AllPassRate)} | {(s.NovelAllPass >= 0 ? s.NovelAllPass.ToString(CultureInfo.InvariantCulture) : "–")} | {K(s.DeltaTcTop10)} | {K(s.DeltaTcTop30)} | {K(s.DeltaTcTop50)} |\n");
        md.Append('\n');
    }

    static void WriteTopTable(StringBuilder md, ReportCandidate[] top, Dictionary<string, double> baseTc)
    {
        if (top.Length == 0)
        {
            md.Append("(no candidate with a finite predicted Tc)\n\n");
            return;
        }
        md.Append("| # | base | formula | atoms | Tc (K) | σ Tc (K) | ΔTc vs base (K) | Ef (eV/atom) | novelty | nearest known (L1) | screening |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < top.Length; i++)
        {
            var c = top[i];
            string delta = baseTc.TryGetValue(c.Base, out var b) && double.IsFinite(b) ? K(c.Tc - b) : "–";
            string verdict = c.AllPass ? "passes all" : c.Reasons.Length > 0 ? c.Reasons.Replace("|", "/") : c.Verdict;
            string novelty = c.Known switch { true => "known", false => "novel", _ => "–" };
            string nearest = c.NearestKnown.Length > 0 ? $"{c.NearestKnown} ({R(c.NearestKnownDistance)})" : "–";
            string atoms = double.IsFinite(c.FormulaAtoms) ? c.FormulaAtoms.ToString("0.####", CultureInfo.InvariantCulture) : "–";
            md.Append($"| {i + 1} | {c.Base} | {c.Formula} | {atoms} | {K(c.Tc)} | {K(c.TcSigma)} | {delta} | {E(c.Ef)} | {novelty} | {nearest} | {verdict} |\n");
        }
        md.Append('\n');
    }

    static (string, string) Save(string directory, string file, byte[] png, string caption)
    {
        AtomicFile.Write(Path.Combine(directory, file), png);
        return (file, caption);
    }

    static string K(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "N/A";
    static string E(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "N/A";
    static string R(double v) => double.IsFinite(v) ? v.ToString("F3", CultureInfo.InvariantCulture) : "N/A";
}
