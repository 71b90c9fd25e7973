using Kiago.Chemistry;
using Kiago.Design.Experiments;
using Kiago.Nets;
using Kiago.Nets.Featurisers;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>One threshold of the scan: how many samples keep an element, and the mean of their top-30 predicted Tc.</summary>
public sealed record ThresholdScore(double Threshold, int NonEmpty, double MeanTop30Tc);

/// <summary>The samples as formulas at the chosen threshold (null: nothing above it), and the whole scan.</summary>
public sealed record ThresholdedSamples(double Threshold, IReadOnlyList<Composition?> Compositions, IReadOnlyList<ThresholdScore> Scan)
{
    public int Empty => Compositions.Count(c => c is null);
}

/// <summary>
/// SuperDiff's post-processing (its evaluate.py, reference §7.3): amounts below a threshold are zeroed (negative ones
/// too), the rest kept as amounts rounded to 0.01 (SuperDiff prints two decimals; the predictors normalise), and the
/// threshold among the scanned ones that maximises the mean of the 30 highest predicted Tc is kept.
/// </summary>
public static class SuperDiffThreshold
{
    public const int TopCount = 30;

    /// <summary>Sample <paramref name="i"/>'s formula at <paramref name="threshold"/>, or null when no amount reaches it.</summary>
    public static Composition? ToComposition(ReadOnlySpan<float> amounts, double threshold)
    {
        Span<double> vector = stackalloc double[Elements.Count];
        bool any = false;
        for (int j = 0; j < DenoiserLayout.Elements; j++)
        {
            double v = amounts[j];
            if (!(v >= threshold) || v <= 0) continue;   // NaN, below the threshold, or not positive
            double rounded = Math.Round(v, 2, MidpointRounding.ToEven);
            if (rounded <= 0) continue;
            vector[j] = rounded;
            any = true;
        }
        return any ? Composition.FromVector(vector) : null;
    }

    /// <summary>Scans <paramref name="thresholds"/> with <paramref name="tc"/>; with one threshold no model is needed.</summary>
    public static ThresholdedSamples Choose(SuperDiffSamples samples, IReadOnlyList<double> thresholds, ICompositionModel? tc)
    {
        if (thresholds.Count == 0) throw new ArgumentException("no thresholds to scan");
        if (thresholds.Count > 1 && tc is null)
            throw new InputException($"the threshold scan ({thresholds.Count} thresholds) ranks by predicted Tc: pass --tc-model, or one --thresholds value");
        var scan = new List<ThresholdScore>();
        ThresholdedSamples? best = null;
        double bestScore = double.NegativeInfinity;
        foreach (double threshold in thresholds)
        {
            var compositions = new Composition?[samples.Samples];
            for (int i = 0; i < samples.Samples; i++)
                compositions[i] = ToComposition(samples.Amounts.AsSpan(i * DenoiserLayout.Elements, DenoiserLayout.Elements), threshold);
            var present = compositions.Where(c => c is not null).Select(c => c!).ToArray();
            double score = double.NaN;
            if (tc is not null && present.Length > 0)
            {
                var tcs = ModelPredictions.Predict(tc, present);
                score = tcs.OrderByDescending(v => v).Take(TopCount).Average();
            }
            scan.Add(new ThresholdScore(threshold, present.Length, score));
            // the first threshold wins ties (and stands alone when nothing can be scored)
            double key = double.IsNaN(score) ? double.NegativeInfinity : score;
            if (best is null || key > bestScore)
            {
                best = new ThresholdedSamples(threshold, compositions, scan);
                bestScore = key;
            }
        }
        return best! with { Scan = scan };
    }
}
