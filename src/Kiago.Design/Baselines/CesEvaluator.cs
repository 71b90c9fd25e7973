using System.Diagnostics;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Chemistry.Screening;
using Kiago.Design.Experiments;
using Kiago.Design.Pipeline;
using Kiago.Nets;

namespace Kiago.Design.Baselines;

/// <summary>One evaluated base: the optimiser's row and summary types, and each row's sample (same order).</summary>
public sealed record CesOutcome(BaseSummary Summary, IReadOnlyList<CandidateRow> Rows, IReadOnlyList<CesSample> Samples);

/// <summary>
/// Screens and predicts the C-ES samples exactly as <c>kiago optimise</c> treats its candidates (reference §8
/// "Evaluation"): uniqueness on the formula, SMACT screening with the baselines' element limit (&lt; 10, i.e. at most
/// 9), the hydride check for the hydride mode, Tc and Ef on the normalised formula, Ef &lt; 0, the substitution checks
/// (fixed fractions within 1e-5), and the shared per-base summary. Without a model its column is NaN and, for Ef, the
/// Ef &lt; 0 check fails with the reason "no Ef model". With <see cref="TcUncertainty"/>/<see cref="EfUncertainty"/>
/// every row also gets each model's σ and domain score (as the optimiser's rows: the μ columns stay the flagship's).
/// </summary>
public sealed class CesEvaluator(ICompositionModel? tc, ICompositionModel? ef)
{
    /// <summary>The rule-based script's NUM_MAX_ELEMENSTS = 10: valid means fewer than 10 elements.</summary>
    public static readonly ScreeningOptions Screening = new() { MaxElements = 9 };

    const double SubstitutionTolerance = 1e-5;

    /// <summary>Fills the novelty columns (one query per distinct formula); null leaves them empty.</summary>
    public Novelty.NoveltySearch? Novelty { get; init; }
    /// <summary>Oxidation-state table of the screening (the reference: SMACT 2014).</summary>
    public OxidationStateTable OxidationStates { get; init; } = OxidationStateTable.Smact14;
    /// <summary>The Tc model's uncertainty (σ and domain columns); null or one without uncertainty data leaves them NaN.</summary>
    public IUncertainCompositionModel? TcUncertainty { get; init; }
    /// <summary>The Ef model's uncertainty (σ and domain columns); null or one without uncertainty data leaves them NaN.</summary>
    public IUncertainCompositionModel? EfUncertainty { get; init; }

    public CesOutcome Evaluate(CesBaseResult generated, int baseIndex, CesMode mode)
    {
        if (generated.Skipped) throw new ArgumentException($"base {generated.Base.Name} was skipped: {generated.SkipReason}");
        var samples = generated.Samples;
        var (summary, rows, order) = Evaluate(generated.Base, [.. samples.Select(s => s.Composition)], baseIndex, mode);
        return new CesOutcome(summary, rows, [.. order.Select(i => samples[i])]);
    }

    /// <summary>
    /// Any baseline's formulas, screened and predicted as above: the rows (best Tc first; a row's Candidate is its
    /// index in <paramref name="compositions"/>), the base's summary, and the row order as indices into the list.
    /// </summary>
    public (BaseSummary Summary, IReadOnlyList<CandidateRow> Rows, int[] Order) Evaluate(BaseMaterial material, IReadOnlyList<Composition> compositions,
        int baseIndex, CesMode mode)
    {
        var clock = Stopwatch.StartNew();
        var samples = compositions.Select(c => new { Composition = c }).ToList();
        var all = samples.Select(s => s.Composition).Append(material.Composition).ToArray();
        var tcs = Predict(tc, all);
        var efs = Predict(ef, all);
        double baseTc = tcs[^1], baseEf = efs[^1];

        var keys = samples.Select(s => s.Composition.ToCanonicalString()).ToArray();
        var distinct = keys.Select((k, i) => (k, i)).GroupBy(p => p.k).Select(g => g.First().i).ToArray();
        var verdicts = mode == CesMode.Hydride
            ? Screener.ScreenHydrideMany([.. distinct.Select(i => samples[i].Composition)], new HydrideScreeningOptions { OxidationStates = OxidationStates })
            : Screener.ScreenMany([.. distinct.Select(i => samples[i].Composition)], Screening with { OxidationStates = OxidationStates });
        var verdictOf = distinct.Select((i, j) => (keys[i], verdicts[j])).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var novelty = Novelty?.QueryMany([.. distinct.Select(i => samples[i].Composition)]);
        var noveltyOf = novelty is null ? null
            : distinct.Select((i, j) => (keys[i], novelty[j])).ToDictionary(p => p.Item1, p => p.Item2, StringComparer.Ordinal);
        var distinctCompositions = distinct.Select(i => samples[i].Composition).ToArray();
        var tcTrust = Trust(TcUncertainty, distinctCompositions);
        var efTrust = Trust(EfUncertainty, distinctCompositions);
        var slotOf = distinct.Select((i, j) => (keys[i], j)).ToDictionary(p => p.Item1, p => p.j, StringComparer.Ordinal);

        var order = Enumerable.Range(0, samples.Count)
            .OrderByDescending(i => double.IsNaN(tcs[i]) ? double.NegativeInfinity : tcs[i]).ThenBy(i => i).ToArray();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<CandidateRow>(samples.Count);
        foreach (var (i, rank) in order.Select((i, r) => (i, r)))
        {
            var composition = samples[i].Composition;
            var verdict = verdictOf[keys[i]];
            var reasons = verdict.Reasons.Select(r => r.Message).ToList();
            bool efNegative = efs[i] < 0;
            if (ef is null) reasons.Add("no Ef model");
            else if (!efNegative) reasons.Add($"Ef = {efs[i].ToString("0.###", CultureInfo.InvariantCulture)} eV/atom is not < 0");
            bool keeps = material.Substitution is not { } spec || mode != CesMode.Substitution || KeepsFixedPart(composition, spec, reasons);
            bool eneg = verdict.ElectronegativityOk ?? true; // the hydride check has no electronegativity test
            bool pass = verdict.Valid && verdict.ChargeNeutral && eneg && efNegative && keeps;
            rows.Add(new CandidateRow(baseIndex, material.Name, rank + 1, i, false, "", "", composition.ToFormulaString(),
                (int)Math.Round(composition.TotalAtoms), composition.Count, double.NaN, double.NaN, double.NaN, tcs[i], efs[i],
                seen.Add(keys[i]), verdict.Valid, verdict.ChargeNeutral, eneg, efNegative, pass, string.Join("; ", reasons))
            {
                FormulaAtoms = composition.TotalAtoms,
                Novelty = noveltyOf?[keys[i]] ?? Kiago.Design.Novelty.NoveltyVerdict.None,
                TcSigma = tcTrust?.Sigma[slotOf[keys[i]]] ?? double.NaN,
                EfSigma = efTrust?.Sigma[slotOf[keys[i]]] ?? double.NaN,
                TcDomain = tcTrust?.Domain[slotOf[keys[i]]] ?? double.NaN,
                EfDomain = efTrust?.Domain[slotOf[keys[i]]] ?? double.NaN,
            });
        }
        string substitution = mode == CesMode.Substitution && material.Substitution is { } s
            ? $"{s.Target.Symbol}{s.OxidationState.ToString("+0;-0", CultureInfo.InvariantCulture)}" : "";
        var summary = BaseSummaries.Summarise(baseIndex, material.Name, substitution, baseTc, baseEf, rows, 0, clock.Elapsed.TotalSeconds);
        return (summary, rows, order);
    }

    /// <summary>The reference's Target_remain and Non_Target_remain checks on normalised fractions (absolute 1e-5).</summary>
    static bool KeepsFixedPart(Composition composition, SubstitutionSpec spec, List<string> reasons)
    {
        double total = spec.Remaining.TotalAtoms + spec.Amount;
        var x = composition.Normalise();
        double deviation = spec.Remaining.Elements.Sum(e => Math.Abs(x[e] - spec.Remaining[e] / total));
        double substituted = x.Elements.Where(e => !spec.Remaining.Contains(e)).Sum(e => x[e]);
        double expected = spec.Amount / total;
        bool ok = true;
        if (deviation >= SubstitutionTolerance)
        {
            reasons.Add($"fixed part changed by {deviation.ToString("0.######", CultureInfo.InvariantCulture)} (> 1e-5)");
            ok = false;
        }
        if (Math.Abs(substituted - expected) >= SubstitutionTolerance)
        {
            reasons.Add($"substituted fraction {substituted.ToString("0.######", CultureInfo.InvariantCulture)} differs from {expected.ToString("0.######", CultureInfo.InvariantCulture)}");
            ok = false;
        }
        return ok;
    }

    /// <summary>σ and domain score per composition, or null when the model has no uncertainty data.</summary>
    static (double[] Sigma, double[] Domain)? Trust(IUncertainCompositionModel? model, IReadOnlyList<Composition> compositions) =>
        model is { HasUncertainty: true }
            ? (ModelPredictions.PredictWithSigma(model, compositions).Sigma, model.DomainScores(compositions))
            : null;

    static double[] Predict(ICompositionModel? model, IReadOnlyList<Composition> compositions) =>
        model is null ? [.. compositions.Select(_ => double.NaN)] : ModelPredictions.Predict(model, compositions);
}
