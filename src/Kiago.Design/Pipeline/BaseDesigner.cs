using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kiago.Chemistry;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Initialisers;
using Kiago.Design.Novelty;
using Kiago.Design.Optimiser;
using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Design.Pipeline;

/// <summary>Everything one base produces.</summary>
public sealed record BaseOutcome(BaseSummary Summary, IReadOnlyList<CandidateRow> Rows, IReadOnlyList<TracePoint> Trace)
{
    /// <summary>Wall time of the novelty search (nearest known composition) for this base, in seconds.</summary>
    public double NoveltySeconds { get; init; }
    /// <summary>Wall time of the whole base, in seconds.</summary>
    public double TotalSeconds { get; init; }
}

/// <summary>
/// One base, end to end: initialise → optimise → round at N* (substitution: <see cref="SubstitutionFormula"/>) → predict on the rounded formula → screen → summarise.
/// Pure compute: no files. Deterministic for (settings, base index).
/// </summary>
public sealed class BaseDesigner(IBackend backend, ICompositionModel tc, ICompositionModel ef, ICandidateScreen screen)
{
    const int E = CompositionSpec.Elements;

    public Action<TracePoint, int, int>? Progress { get; set; }

    /// <summary>The known-compositions search behind the novelty columns; null leaves them empty.</summary>
    public NoveltySearch? Novelty { get; init; }

    /// <summary>
    /// The Tc/Ef models with their uncertainty data (the same flagships as tc/ef): σ and domain columns of every row,
    /// and the κ objective. Null, or a model without uncertainty data: those columns stay empty and κ has no σ term.
    /// </summary>
    public IUncertainCompositionModel? TcUncertainty { get; init; }
    public IUncertainCompositionModel? EfUncertainty { get; init; }

    /// <summary>The user's objectives beyond Tc and Ef: in the loss, and one value (+ σ where available) per row.</summary>
    public IReadOnlyList<ExtraObjective> Objectives { get; init; } = [];

    /// <summary>Checks a base's constraints (no compute); throws <see cref="ConstraintException"/>.</summary>
    public static ResolvedConstraints Check(DesignSettings settings, DesignBase b) => settings.ConstraintsFor(b).Resolve(b.Composition);

    public BaseOutcome Run(DesignSettings settings, DesignBase b, int baseIndex, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var resolved = Check(settings, b);
        var spec = new CompositionSpec(resolved.Allowed, resolved.Fixed, resolved.NSet, settings.Distance);
        var options = settings.Optimiser with
        {
            MaxElements = resolved.MaxElements,
            // the element-substitution experiment runs without the integer loss (reference §6)
            IntegerSchedule = b.Substitution is null ? settings.Optimiser.IntegerSchedule : IntegerWeightSchedule.Off,
        };
        int batch = settings.Candidates;
        var baseVector = b.Composition.ToFractionVector();
        var theta = Initialiser.Draw(settings.InitialiserFor(b), baseVector, resolved.Allowed, settings.ElementFrequencies,
            batch, DesignRandom.ForStream(settings.Seed, baseIndex, "init"));

        OptimiserResult result;
        using (var kernel = backend.CreateCompositionKernel(spec))
        using (var optimiser = new DesignOptimiser(backend, kernel, tc, ef, options, batch, TcUncertainty, EfUncertainty, Objectives) { Progress = Progress })
            result = optimiser.Run(theta, cancel);
        cancel.ThrowIfCancellationRequested();

        // round at N* (substitution: integerize_atom_dict on x·N*), renormalise, predict (one batch), and the base's
        // own prediction in the same call
        var formulas = new Composition?[batch];
        var texts = new string[batch];
        var usedN = (int[])result.FinalN.Clone();
        var failures = new string?[batch];
        var rounded = new float[(batch + 1) * E];
        var substitution = SubstitutionParts(b, resolved);
        for (int c = 0; c < batch; c++)
        {
            if (result.Flags[c] != 0) continue;
            var x = result.FinalX.AsSpan(c * E, E);
            if (substitution is { } sub)
            {
                formulas[c] = SubstitutionAt(x, result.FinalN[c], sub.Remaining, sub.Val, settings.SubstitutionScaling);
                texts[c] = formulas[c]?.ToFormulaString() ?? "";
                if (formulas[c] is null) failures[c] = "no substituent left to take the target's place";
            }
            else
            {
                var built = FormulaBuilder.Build(x, result.FinalN[c], resolved.NSet, resolved, settings.Formula);
                formulas[c] = built.Formula?.ToComposition();
                texts[c] = built.Formula?.ToString() ?? "";
                usedN[c] = built.N;
                failures[c] = built.Failure;
            }
            formulas[c]?.WriteFractions(rounded.AsSpan(c * E, E));
        }
        b.Composition.WriteFractions(rounded.AsSpan(batch * E, E));
        var (tcRounded, efRounded) = Predict(rounded, batch + 1);
        var tcSigma = Sigma(TcUncertainty, rounded, batch + 1);
        var efSigma = Sigma(EfUncertainty, rounded, batch + 1);
        double baseTc = tcRounded[batch], baseEf = efRounded[batch];
        // each extra objective on the integer formulas: value, then σ where its model has uncertainty data
        var objectiveColumns = new List<float[]>();
        foreach (var o in Objectives)
        {
            objectiveColumns.Add(PredictWith(o.Model, rounded, batch + 1));
            if (o.HasSigma) objectiveColumns.Add(Sigma(o.Uncertainty, rounded, batch + 1)!);
        }

        // rows sorted by the final continuous Tc, descending (the reference's CSV order); ties by candidate index
        var order = Enumerable.Range(0, batch).OrderByDescending(c => result.Flags[c] != 0 ? float.NegativeInfinity : result.FinalTc[c])
            .ThenBy(c => c).ToArray();
        // screen each distinct formula once (in parallel inside the screen), in rank order
        var distinct = new Dictionary<string, int>(StringComparer.Ordinal);
        var toScreen = new List<Composition>();
        foreach (int c in order)
            if (formulas[c] is { } f && distinct.TryAdd(texts[c], toScreen.Count)) toScreen.Add(f);
        var verdicts = screen.ScreenMany(toScreen);
        // novelty: one nearest-neighbour query per distinct formula, timed (issue 12: ≤ 5 % of a run's wall time)
        var noveltyClock = Stopwatch.StartNew();
        var novelty = Novelty?.QueryMany(toScreen) ?? [];
        double noveltySeconds = Novelty is null ? 0 : noveltyClock.Elapsed.TotalSeconds;
        var tcDomain = TcUncertainty is { HasUncertainty: true } tu ? tu.DomainScores(toScreen) : null;
        var efDomain = EfUncertainty is { HasUncertainty: true } eu ? eu.DomainScores(toScreen) : null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rows = new List<CandidateRow>(batch);
        for (int rank = 0; rank < batch; rank++)
        {
            int c = order[rank];
            var formula = formulas[c];
            string text = texts[c] ?? "";
            bool unique = formula is not null && seen.Add(text);
            var reasons = new List<string>();
            bool valid = false, neutral = false, eneg = false;
            if (result.Flags[c] != 0) reasons.Add("degenerate: the optimisable part summed to zero");
            else if (formula is null) reasons.Add(failures[c] ?? "no integer formula");
            else
            {
                var verdict = verdicts[distinct[text]];
                (valid, neutral, eneg) = (verdict.Valid, verdict.Neutral, verdict.Electronegativity);
                reasons.AddRange(verdict.Reasons);
            }
            bool efNeg = formula is not null && efRounded[c] < 0;
            if (formula is not null && !efNeg) reasons.Add($"Ef = {efRounded[c].ToString("0.###", CultureInfo.InvariantCulture)} eV/atom is not < 0");
            bool substitutionOk = b.Substitution is null || formula is not null && KeepsFixedPart(formula, resolved.Fixed, reasons);
            bool all = formula is not null && valid && neutral && eneg && efNeg && substitutionOk;
            rows.Add(new CandidateRow(baseIndex, b.Name, rank + 1, c, result.Flags[c] != 0,
                FractionFormula(result.Stage1X.AsSpan(c * E, E)), FractionFormula(result.FinalX.AsSpan(c * E, E)),
                text, usedN[c], formula?.Count ?? 0, result.FinalIntegerLoss[c],
                result.Flags[c] != 0 ? double.NaN : result.FinalTc[c], result.Flags[c] != 0 ? double.NaN : result.FinalEf[c],
                formula is null ? double.NaN : tcRounded[c], formula is null ? double.NaN : efRounded[c],
                unique, valid, neutral, eneg, efNeg, all, string.Join("; ", reasons))
            {
                FormulaAtoms = formula?.TotalAtoms ?? 0,
                Novelty = formula is not null && Novelty is not null ? novelty[distinct[text]] : NoveltyVerdict.None,
                TcSigma = formula is not null && tcSigma is not null ? tcSigma[c] : double.NaN,
                EfSigma = formula is not null && efSigma is not null ? efSigma[c] : double.NaN,
                TcDomain = formula is not null && tcDomain is not null ? tcDomain[distinct[text]] : double.NaN,
                EfDomain = formula is not null && efDomain is not null ? efDomain[distinct[text]] : double.NaN,
                // no objectives: the shared empty list, so rows of runs without --objective stay equal as records
                Objectives = objectiveColumns.Count == 0 ? [] : [.. objectiveColumns.Select(column => formula is null ? double.NaN : (double)column[c])],
            });
        }
        var summary = Summarise(baseIndex, b, resolved, baseTc, baseEf, rows, result, clock.Elapsed.TotalSeconds);
        // --novel-only: the summary describes every candidate; only the written rows drop the known compositions
        IReadOnlyList<CandidateRow> written = settings.NovelOnly ? rows.Where(r => !r.Novelty.Known).ToList() : rows;
        return new BaseOutcome(summary, written, result.Trace) { NoveltySeconds = noveltySeconds, TotalSeconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>round(x·N) half-to-even per element (x in float32, product in double); null when all round to 0.</summary>
    public static IntegerFormula? RoundAt(ReadOnlySpan<float> x, int n)
    {
        var elements = new List<Element>(); var counts = new List<long>();
        for (int e = 0; e < E; e++)
        {
            long k = (long)Math.Round((double)x[e] * n, MidpointRounding.ToEven);
            if (k > 0) { elements.Add(Elements.ByZ(e + 1)); counts.Add(k); }
        }
        return elements.Count == 0 ? null : new IntegerFormula([.. elements], [.. counts]);
    }

    /// <summary>Substitution base: the fixed part as amounts (the base without the target) and the target's amount; else null.</summary>
    static (Composition Remaining, double Val)? SubstitutionParts(DesignBase b, ResolvedConstraints resolved)
    {
        if (b.Substitution is null || resolved.SubstitutionTarget is not { } target) return null;
        var remaining = Composition.FromAmounts(b.Composition.Elements.Where(el => el != target)
            .Select(el => KeyValuePair.Create(el, b.Composition[el])));
        return (remaining, b.Composition[target]);
    }

    /// <summary>
    /// The substitution formula from the continuous x·N (x in float32, product in double) via
    /// <see cref="SubstitutionFormula.Integerize"/>; null when no substituent is left.
    /// </summary>
    public static Composition? SubstitutionAt(ReadOnlySpan<float> x, int n, Composition remaining, double val,
        SubstitutionScaling scaling = SubstitutionScaling.Single)
    {
        var amounts = new double[E];
        for (int e = 0; e < E; e++) amounts[e] = (double)x[e] * n;
        return SubstitutionFormula.Integerize(amounts, remaining, val, scaling);
    }

    /// <summary>Atom fractions as a pymatgen-parseable formula, Z order, 6 decimals, zeros omitted.</summary>
    public static string FractionFormula(ReadOnlySpan<float> x)
    {
        var sb = new StringBuilder();
        for (int e = 0; e < E; e++)
            if (x[e] > 0) sb.Append(Elements.ByZ(e + 1).Symbol).Append(x[e].ToString("0.######", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>Reference ES checks: fixed fractions kept to 1e-5 (absolute, on the normalised rounded formula).</summary>
    static bool KeepsFixedPart(Composition formula, float[] fixedPart, List<string> reasons)
    {
        var x = new double[E];
        formula.WriteFractions(x);
        double dev = 0;
        for (int e = 0; e < E; e++) if (fixedPart[e] != 0f) dev += Math.Abs(x[e] - fixedPart[e]);
        if (dev < 1e-5) return true;
        reasons.Add($"fixed part changed by {dev.ToString("0.######", CultureInfo.InvariantCulture)} (> 1e-5)");
        return false;
    }

    /// <summary>σ of an uncertain model on the rows of x (host), or null when the model has no uncertainty data.</summary>
    float[]? Sigma(IUncertainCompositionModel? model, float[] x, int count)
    {
        if (model is not { HasUncertainty: true }) return null;
        using var xb = backend.Allocate<float>((long)count * E);
        using var mb = backend.Allocate<float>(count);
        using var sb = backend.Allocate<float>(count);
        backend.Upload<float>(x, xb);
        model.ForwardWithSigma(count, xb, mb, sb);
        var sigma = new float[count];
        backend.Download(sb, sigma.AsSpan());
        return sigma;
    }

    float[] PredictWith(ICompositionModel model, float[] x, int count)
    {
        using var xb = backend.Allocate<float>((long)count * E);
        using var yb = backend.Allocate<float>(count);
        backend.Upload<float>(x, xb);
        model.Forward(count, xb, yb);
        var y = new float[count];
        backend.Download(yb, y.AsSpan());
        return y;
    }

    (float[] Tc, float[] Ef) Predict(float[] x, int count)
    {
        using var xb = backend.Allocate<float>((long)count * E);
        using var tb = backend.Allocate<float>(count);
        using var eb = backend.Allocate<float>(count);
        backend.Upload<float>(x, xb);
        tc.Forward(count, xb, tb);
        ef.Forward(count, xb, eb);
        var tcs = new float[count]; var efs = new float[count];
        backend.Download(tb, tcs.AsSpan()); backend.Download(eb, efs.AsSpan());
        return (tcs, efs);
    }

    static BaseSummary Summarise(int index, DesignBase b, ResolvedConstraints resolved, double baseTc, double baseEf,
        List<CandidateRow> rows, OptimiserResult result, double seconds)
    {
        string substitution = resolved.SubstitutionTarget is { } t ? $"{t.Symbol}{resolved.SubstitutionOxidationState:+0;-0}" : "";
        return BaseSummaries.Summarise(index, b.Name, substitution, baseTc, baseEf, rows, result.Flags.Count(f => f != 0), seconds);
    }
}
