using Kiago.Chemistry;
using ScottPlot;

namespace Kiago.Cli.Report;

/// <summary>The report's figures as PNG bytes (ScottPlot, rendered headless through SkiaSharp).</summary>
public static class ReportPlots
{
    public const int Width = 900, Height = 600;

    static readonly string[] VerdictOrder = ["invalid", "not charge-neutral", "electronegativity", "Ef ≥ 0", "fails other check", "passes all"];

    static Color ColourOf(int i) => new ScottPlot.Palettes.Category10().GetColor(i);

    /// <summary>A base material's own prediction, marked on the Tc–Ef plot.</summary>
    public sealed record BaseMark(string Name, double Tc, double Ef);

    /// <summary>
    /// Predicted Tc against predicted Ef: failing candidates coloured by the first check they fail, passing ones split
    /// into novel (black) and known compositions (red), each base's own prediction as a large star named by its formula.
    /// </summary>
    public static byte[] TcVersusEf(IReadOnlyList<ReportCandidate> rows, IReadOnlyList<BaseMark>? bases = null)
    {
        var plot = new Plot();
        var finite = rows.Where(r => double.IsFinite(r.Tc) && double.IsFinite(r.Ef)).ToArray();
        foreach (var (verdict, i) in VerdictOrder.Select((v, i) => (v, i)))
        {
            var group = finite.Where(r => r.Verdict == verdict).ToArray();
            if (group.Length == 0) continue;
            if (verdict == "passes all")
            {
                foreach (var (label, colour, pick) in new (string, Color, Func<ReportCandidate, bool>)[]
                         {
                             ("passes all, novel", Colors.Black, r => r.Known != true),
                             ("passes all, known compound", Colors.Red, r => r.Known == true),
                         })
                {
                    var part = group.Where(pick).ToArray();
                    if (part.Length == 0) continue;
                    var pass = plot.Add.ScatterPoints(part.Select(r => r.Ef).ToArray(), part.Select(r => r.Tc).ToArray(), colour);
                    pass.MarkerSize = 7;
                    pass.LegendText = $"{label} ({part.Length})";
                }
                continue;
            }
            var points = plot.Add.ScatterPoints(group.Select(r => r.Ef).ToArray(), group.Select(r => r.Tc).ToArray(), ColourOf(i));
            points.MarkerSize = 4;
            points.LegendText = $"{verdict} ({group.Length})";
        }
        foreach (var (b, i) in (bases ?? []).Where(b => double.IsFinite(b.Tc) && double.IsFinite(b.Ef)).Select((b, i) => (b, i)))
        {
            var mark = plot.Add.ScatterPoints(new[] { b.Ef }, new[] { b.Tc }, ColourOf(6 + i % 4));
            mark.MarkerShape = MarkerShape.FilledDiamond;
            mark.MarkerSize = 16;
            mark.LegendText = $"base {b.Name} ({b.Tc:0.0} K, {b.Ef:0.00} eV/atom)";
        }
        plot.Title("Predicted Tc vs formation energy, by screening verdict and novelty");
        plot.XLabel("predicted Ef (eV/atom)");
        plot.YLabel("predicted Tc (K)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Predicted Tc against its σ (the Tc model's uncertainty), passing candidates black, the rest grey.</summary>
    public static byte[] TcVersusSigma(IReadOnlyList<ReportCandidate> rows)
    {
        var plot = new Plot();
        var finite = rows.Where(r => double.IsFinite(r.Tc) && double.IsFinite(r.TcSigma)).ToArray();
        foreach (var (label, colour, size, pick) in new (string, Color, float, Func<ReportCandidate, bool>)[]
                 {
                     ("fails a screen", Colors.Gray, 4, r => !r.AllPass),
                     ("passes all, novel", Colors.Black, 7, r => r.AllPass && r.Known != true),
                     ("passes all, known compound", Colors.Red, 7, r => r.AllPass && r.Known == true),
                 })
        {
            var part = finite.Where(pick).ToArray();
            if (part.Length == 0) continue;
            var points = plot.Add.ScatterPoints(part.Select(r => r.TcSigma).ToArray(), part.Select(r => r.Tc).ToArray(), colour);
            points.MarkerSize = size;
            points.LegendText = $"{label} ({part.Length})";
        }
        plot.Title("Predicted Tc vs its uncertainty σ");
        plot.XLabel("σ of predicted Tc (K)");
        plot.YLabel("predicted Tc (K)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Best and mean predicted Tc per optimisation step, per base (at most <paramref name="maxBases"/> bases), named by <paramref name="baseNames"/>.</summary>
    public static byte[] TcPerStep(IReadOnlyList<ReportTracePoint> trace, int maxBases = 8, IReadOnlyDictionary<int, string>? baseNames = null)
    {
        var plot = new Plot();
        foreach (var (group, i) in trace.GroupBy(p => p.BaseIndex).OrderBy(g => g.Key).Take(maxBases).Select((g, i) => (g, i)))
        {
            var points = group.OrderBy(p => p.Step).ToArray();
            double[] steps = [.. points.Select(p => (double)p.Step)];
            var best = plot.Add.Scatter(steps, points.Select(p => p.BestTc).ToArray(), ColourOf(i));
            best.MarkerSize = 0;
            best.LineWidth = 2;
            string name = baseNames is not null && baseNames.TryGetValue(group.Key, out var n) ? n : $"base {group.Key}";
            best.LegendText = $"{name}: best";
            var mean = plot.Add.Scatter(steps, points.Select(p => p.MeanTc).ToArray(), ColourOf(i));
            mean.MarkerSize = 0;
            mean.LinePattern = LinePattern.Dashed;
            mean.LegendText = $"{name}: mean";
        }
        plot.Title("Predicted Tc per step (solid: best, dashed: mean over candidates)");
        plot.XLabel("step");
        plot.YLabel("predicted Tc (K)");
        plot.ShowLegend(Alignment.LowerRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>How many of the given formulas contain each element (most frequent first, at most <paramref name="maxElements"/>).</summary>
    public static IReadOnlyList<(string Element, int Count)> ElementFrequency(IEnumerable<string> formulas, int maxElements = 30) =>
        [.. formulas.Select(f => Composition.TryParse(f, out var c, out _) ? c : null).OfType<Composition>()
            .SelectMany(c => c.Elements).GroupBy(e => e)
            .Select(g => (g.Key.Symbol, Z: g.Key.Z, Count: g.Count()))
            .OrderByDescending(x => x.Count).ThenBy(x => x.Z).Take(maxElements).Select(x => (x.Symbol, x.Count))];

    public static byte[] ElementFrequencyBars(IReadOnlyList<(string Element, int Count)> frequency, string title)
    {
        var plot = new Plot();
        double[] positions = [.. Enumerable.Range(0, frequency.Count).Select(i => (double)i)];
        var bars = plot.Add.Bars(positions, frequency.Select(f => (double)f.Count).ToArray());
        bars.Color = ColourOf(0);
        plot.Axes.Bottom.SetTicks(positions, [.. frequency.Select(f => f.Element)]);
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel("candidates containing the element");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
