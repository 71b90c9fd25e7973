using System.Diagnostics;
using System.Globalization;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>Progress lines on stderr: step, stage, best Tc, mean loss, candidate-steps/s, ETA (at most one a second).</summary>
public sealed class ProgressReporter(TextWriter? output, int baseIndex, int baseCount, string baseName, int candidates)
{
    readonly Stopwatch clock = Stopwatch.StartNew();
    double lastPrinted = double.NegativeInfinity;

    public void Report(TracePoint p, int done, int total)
    {
        if (output is null) return;
        double t = clock.Elapsed.TotalSeconds;
        if (done < total && t - lastPrinted < 1.0) return;
        lastPrinted = t;
        double rate = done * (double)candidates / Math.Max(t, 1e-9);
        double eta = (total - done) * (double)candidates / Math.Max(rate, 1e-9);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{baseIndex + 1}/{baseCount} {baseName}] step {done}/{total} stage {p.Stage}  best Tc {p.BestTc:0.00} K  mean Tc {p.MeanTc:0.00} K  mean loss {p.MeanLoss:0.####}  {rate:0} cand-steps/s  ETA {TimeSpan.FromSeconds(Math.Round(eta)):c}"));
    }

    public void Done(BaseSummary s, double noveltySeconds = 0)
    {
        double t = clock.Elapsed.TotalSeconds;
        output?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[{baseIndex + 1}/{baseCount} {baseName}] done in {t:0.0} s: base Tc {s.BaseTc:0.00} K, {s.Unique} unique, all-pass {s.AllPassRate:P1} ({s.NovelAllPass} novel), ΔTc top-10 {s.DeltaTcTop10:0.00} K; novelty search {noveltySeconds:0.000} s ({noveltySeconds / Math.Max(t, 1e-9):P2} of the base)"));
    }
}
