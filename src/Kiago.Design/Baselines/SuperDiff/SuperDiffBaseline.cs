using Kiago.Chemistry;
using Kiago.Design.Experiments;
using Kiago.Design.Pipeline;
using Kiago.Nets;
using Kiago.Nets.Featurisers;

namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>One base of a SuperDiff run: the rows and summary (as for C-ES), which sample each row is, the settings, the threshold scan and the raw samples.</summary>
public sealed record SuperDiffOutcome(BaseSummary Summary, IReadOnlyList<CandidateRow> Rows, IReadOnlyList<int> SampleOfRow,
    SuperDiffOptions Options, ThresholdedSamples Thresholded, SuperDiffSamples Samples);

/// <summary>SuperDiff as a baseline: sample (ILVR on the base), threshold, then screen and predict as C-ES.</summary>
public static class SuperDiffBaseline
{
    /// <summary>Why a base cannot be a SuperDiff reference (an element beyond Cm), or null.</summary>
    public static string? Unsupported(BaseMaterial material) =>
        material.Composition.Elements.FirstOrDefault(e => e.Z > DenoiserLayout.Elements) is { } e
            ? $"{e.Symbol} (Z = {e.Z}) is outside the denoiser's elements (H…Cm, Z 1..{DenoiserLayout.Elements})" : null;

    /// <summary>The base's amounts as SuperDiff's 96-vector (the ILVR reference).</summary>
    public static float[] Reference(BaseMaterial material)
    {
        if (Unsupported(material) is { } reason) throw new InputException($"{material.Name}: {reason}");
        var vector = new float[DenoiserLayout.Elements];
        foreach (var e in material.Composition.Elements) vector[e.Z - 1] = (float)material.Composition[e];
        return vector;
    }

    /// <summary>Samples, thresholds and evaluates one base; a row's Candidate is its sample number.</summary>
    public static SuperDiffOutcome Run(SuperDiffSampler sampler, CesEvaluator evaluator, BaseMaterial material, int index,
        SuperDiffOptions options, CesMode mode, ICompositionModel? tc, Action<long, long>? progress = null)
    {
        var sampled = sampler.Sample(options.IlvrScales.Count > 0 ? Reference(material) : null, options, progress);
        var thresholded = SuperDiffThreshold.Choose(sampled, options.Thresholds, tc);
        var kept = Enumerable.Range(0, sampled.Samples).Where(s => thresholded.Compositions[s] is not null).ToArray();
        var (summary, rows, _) = evaluator.Evaluate(material, [.. kept.Select(s => thresholded.Compositions[s]!)], index, mode);
        var sampleOfRow = rows.Select(row => kept[row.Candidate]).ToArray();
        rows = [.. rows.Select((row, j) => row with { Candidate = sampleOfRow[j] })];
        return new SuperDiffOutcome(summary, rows, sampleOfRow, options, thresholded, sampled);
    }
}
