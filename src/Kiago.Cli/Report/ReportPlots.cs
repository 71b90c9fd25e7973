using Kiago.Chemistry;
using ScottPlot;

namespace Kiago.Cli.Report;

/// <summary>The report's figures as PNG bytes (ScottPlot, rendered headless through SkiaSharp).</summary>
public static class ReportPlots
{
    public const int Width = 900, Height = 600;

    static readonly string[] VerdictOrder = ["invalid", "not charge-neutral", "electronegativity", "Ef ≥ 0", "fails other check", "passes all"];

    static Color ColourOf(int i) => new ScottPlot.Palettes.Category10().GetColor(i);

    /// <summary>Predicted Tc against predicted Ef, one colour per screening verdict (first failed check).</summary>
    public static byte[] TcVersusEf(IReadOnlyList<ReportCandidate> rows)
    {
        var plot = new Plot();
        var finite = rows.Where(r => double.IsFinite(r.Tc) && double.IsFinite(r.Ef)).ToArray();
        foreach (var (verdict, i) in VerdictOrder.Select((v, i) => (v, i)))
        {
            var group = finite.Where(r => r.Verdict == verdict).ToArray();
            if (group.Length == 0) continue;
            var points = plot.Add.ScatterPoints(group.Select(r => r.Ef).ToArray(), group.Select(r => r.Tc).ToArray(),
                verdict == "passes all" ? Colors.Black : ColourOf(i));
            points.MarkerSize = verdict == "passes all" ? 6 : 4;
            points.LegendText = $"{verdict} ({group.Length})";
        }
        plot.Title("Predicted Tc vs formation energy, by screening verdict");
        plot.XLabel("predicted Ef (eV/atom)");
        plot.YLabel("predicted Tc (K)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    /// <summary>Best and mean predicted Tc per optimisation step, per base (at most <paramref name="maxBases"/> bases).</summary>
    public static byte[] TcPerStep(IReadOnlyList<ReportTracePoint> trace, int maxBases = 8)
    {
        var plot = new Plot();
        foreach (var (group, i) in trace.GroupBy(p => p.BaseIndex).OrderBy(g => g.Key).Take(maxBases).Select((g, i) => (g, i)))
        {
            var points = group.OrderBy(p => p.Step).ToArray();
            double[] steps = [.. points.Select(p => (double)p.Step)];
            var best = plot.Add.Scatter(steps, points.Select(p => p.BestTc).ToArray(), ColourOf(i));
            best.MarkerSize = 0;
            best.LineWidth = 2;
            best.LegendText = $"base {group.Key}: best";
            var mean = plot.Add.Scatter(steps, points.Select(p => p.MeanTc).ToArray(), ColourOf(i));
            mean.MarkerSize = 0;
            mean.LinePattern = LinePattern.Dashed;
            mean.LegendText = $"base {group.Key}: mean";
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
