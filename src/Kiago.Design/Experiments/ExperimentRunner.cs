using System.Diagnostics;
using Kiago.Chemistry;
using Kiago.Design.Baselines;
using Kiago.Design.Baselines.SuperDiff;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Initialisers;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Design.Experiments;

/// <summary>The paper's three experiments (reference §6).</summary>
public enum ExperimentKind { Normal, Substitution, Hydride }

/// <summary>Run size and seed of an experiment; null sizes take the reference's per-kind values.</summary>
public sealed record ExperimentOptions
{
    public ExperimentKind Kind { get; init; } = ExperimentKind.Normal;
    public int Candidates { get; init; } = 4096;
    public int Steps { get; init; } = 1000;
    public long Seed { get; init; } = 0;
    /// <summary>C-ES samples per base; null = <see cref="Candidates"/>.</summary>
    public int? CesSamples { get; init; }
    /// <summary>KIAGO's N-set maximum; null = 199 (Normal, Substitution) or 14 (Hydride), as the published code.</summary>
    public int? MaxAtoms { get; init; }
    /// <summary>Max-atoms values of the integerisation comparison (Table 1; Normal only; empty = skip).</summary>
    public IReadOnlyList<int> IntegerisationMaxAtoms { get; init; } = [];
    /// <summary>What Table 1's integer-loss arm runs besides the integer loss (<see cref="Experiments.IntegerisationArm"/>).</summary>
    public IntegerisationArm IntegerisationArm { get; init; } = IntegerisationArm.Reference;
    /// <summary>Oxidation-state table of the screening (KIAGO and C-ES) and of the substituents; the published SMACT 2014 by default.</summary>
    public OxidationStateTable OxidationStates { get; init; } = OxidationStateTable.Smact14;

    public int EffectiveCesSamples => CesSamples ?? Candidates;

    /// <summary>The SuperDiff arms' settings (SD+CG's guidance weight; SD runs them with none), or null without those arms.</summary>
    public Baselines.SuperDiff.SuperDiffOptions? SuperDiff { get; init; }

    public CesMode CesMode => Kind switch
    {
        ExperimentKind.Substitution => CesMode.Substitution,
        ExperimentKind.Hydride => CesMode.Hydride,
        _ => CesMode.Normal,
    };
}

/// <summary>
/// One base of an experiment: KIAGO's outcome (or why it could not run) and C-ES's (or why it was skipped); with the
/// SuperDiff arms, SD's and SD+CG's rows and summaries (or why the base cannot be SuperDiff's reference).
/// </summary>
public sealed record ExperimentBase(BaseMaterial Material, BaseOutcome? Kiago, string? KiagoError, CesOutcome? Ces, string? CesSkip,
    CesOutcome? Sd = null, CesOutcome? SdCg = null, string? SdSkip = null);

/// <summary>The SuperDiff arms of an experiment: SD (no guidance) and SD+CG (guided), with the settings both share but the weight.</summary>
public sealed record SuperDiffArms(SuperDiffSampler Plain, SuperDiffSampler Guided, SuperDiffOptions Options);

/// <summary>
/// Table 1's integer-loss arm. <see cref="Reference"/> is KIAGO as the experiment runs it (−Tc + α·Ef, the top-k element
/// mask at the stage switch); the others are diagnoses of the gap to rounding, not the reference protocol: without the
/// Ef term (α = 0), without the mask (k = every element that can appear), or without both, where stage 2 only adds the
/// integer loss to −Tc.
/// </summary>
public enum IntegerisationArm { Reference, NoEf, NoMask, Bare }

/// <summary>One integerisation sample of one base: the max-atoms value, the KIAGO candidate and its three Tc values.</summary>
public sealed record IntegerisationPoint(int MaxAtoms, int Candidate, IntegerisationOutcome Outcome);

/// <summary>What one base contributes to an experiment (<see cref="ExperimentRunner.RunBase"/>); the SuperDiff outcomes in full when run.</summary>
public sealed record ExperimentBaseRun(ExperimentBase Base, IReadOnlyList<IntegerisationPoint> Integerisation,
    SuperDiffOutcome? Sd = null, SuperDiffOutcome? SdCg = null);

public sealed record ExperimentResult(ExperimentOptions Options, IReadOnlyList<ExperimentBase> Bases,
    IReadOnlyList<IntegerisationRow> Integerisation, double Seconds);

/// <summary>
/// Runs KIAGO (the optimiser's <see cref="BaseDesigner"/>) and the C-ES baseline on every base of a list, with the
/// reference's per-experiment settings (§6): Normal lr 0.03, k = 8, reference initialiser; Substitution with the
/// JSON's target and state, integer loss off; Hydride lr 0.04, H fixed at 0.4, k = 2, N ≤ 14, hydride screening.
/// </summary>
public sealed class ExperimentRunner(IBackend backend, ICompositionModel tc, ICompositionModel ef)
{
    /// <summary>Progress lines (one per base and stage).</summary>
    public Action<string>? Log { get; set; }

    /// <summary>Fills the novelty columns of both methods' rows; null leaves them empty.</summary>
    public Novelty.NoveltySearch? Novelty { get; init; }

    /// <summary>SD and SD+CG beside KIAGO and C-ES (Normal and Substitution); null runs neither.</summary>
    public SuperDiffArms? SuperDiff { get; init; }

    public ExperimentResult Run(IReadOnlyList<BaseMaterial> bases, ExperimentOptions options, CancellationToken cancel = default)
    {
        var clock = Stopwatch.StartNew();
        var runs = new List<ExperimentBaseRun>();
        for (int i = 0; i < bases.Count; i++) runs.Add(RunBase(bases[i], i, bases.Count, options, cancel));
        return Assemble(options, runs, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The result of a list of bases run one by one (possibly in different processes), in base order.</summary>
    public static ExperimentResult Assemble(ExperimentOptions options, IReadOnlyList<ExperimentBaseRun> runs, double seconds)
    {
        var integerisation = options.Kind == ExperimentKind.Normal
            ? options.IntegerisationMaxAtoms.Select(m => Integerisation.Aggregate(m, runs.SelectMany(r => r.Integerisation.Where(p => p.MaxAtoms == m).Select(p => p.Outcome)))).ToList()
            : [];
        return new ExperimentResult(options, [.. runs.Select(r => r.Base)], integerisation, seconds);
    }

    /// <summary>
    /// Everything the experiment computes for one base: KIAGO, C-ES and (Normal) the integerisation samples at every
    /// max-atoms value. Depends only on the base, its index and the options, never on the other bases.
    /// </summary>
    public ExperimentBaseRun RunBase(BaseMaterial material, int i, int count, ExperimentOptions options, CancellationToken cancel = default)
    {
        var evaluator = new CesEvaluator(tc, ef) { Novelty = Novelty, OxidationStates = options.OxidationStates };
        Log?.Invoke($"[{i + 1}/{count}] {material.Name}: KIAGO {options.Candidates} × {options.Steps} steps");
        var (kiago, error) = RunKiago(material, i, options, options.MaxAtoms, cancel);
        Log?.Invoke($"[{i + 1}/{count}] {material.Name}: C-ES {options.EffectiveCesSamples} samples");
        var generated = CesGenerator.Generate(material, i, new CesOptions { Mode = options.CesMode, Samples = options.EffectiveCesSamples, Seed = options.Seed });
        var ces = generated.Skipped ? null : evaluator.Evaluate(generated, i, options.CesMode);
        var points = new List<IntegerisationPoint>();
        if (options.Kind == ExperimentKind.Normal)
            foreach (int m in options.IntegerisationMaxAtoms)
            {
                Log?.Invoke($"integerisation M = {m}: [{i + 1}/{count}] {material.Name}");
                points.AddRange(IntegerisationSamples(material, i, options, m, cancel));
            }
        SuperDiffOutcome? sd = null, sdcg = null;
        string? sdSkip = null;
        if (SuperDiff is { } arms && options.Kind != ExperimentKind.Hydride)
        {
            sdSkip = SuperDiffBaseline.Unsupported(material);
            if (sdSkip is null)
            {
                var plain = arms.Options with { GuidanceWeight = 0 };
                Log?.Invoke($"[{i + 1}/{count}] {material.Name}: SD {plain.Samples} samples × {plain.Steps} steps");
                sd = SuperDiffBaseline.Run(arms.Plain, evaluator, material, i, plain, options.CesMode, tc);
                Log?.Invoke($"[{i + 1}/{count}] {material.Name}: SD+CG (w = {arms.Options.GuidanceWeight:G3})");
                sdcg = SuperDiffBaseline.Run(arms.Guided, evaluator, material, i, arms.Options, options.CesMode, tc);
            }
        }
        var b = new ExperimentBase(material, kiago, error, ces, generated.SkipReason,
            sd is null ? null : new CesOutcome(sd.Summary, sd.Rows, []), sdcg is null ? null : new CesOutcome(sdcg.Summary, sdcg.Rows, []), sdSkip);
        return new ExperimentBaseRun(b, points, sd, sdcg);
    }

    /// <summary>KIAGO with N-set {1…M} on one base; rule-based rounding of the same stage-1 compositions at M.</summary>
    IEnumerable<IntegerisationPoint> IntegerisationSamples(BaseMaterial material, int index, ExperimentOptions options, int maxAtoms, CancellationToken cancel)
    {
        var (outcome, _) = RunKiago(material, index, options with { Kind = ExperimentKind.Normal }, maxAtoms, cancel, options.IntegerisationArm);
        if (outcome is null) return [];
        var rows = outcome.Rows.Where(r => !r.Degenerate && r.Formula.Length > 0 && double.IsFinite(r.TcRounded)).ToList();
        var stage1 = rows.Select(r => Composition.Parse(r.Stage1Composition)).ToList();
        var tcStage1 = ModelPredictions.Predict(tc, stage1);
        var samples = stage1.Select((c, j) => new IntegerisationSample(c, tcStage1[j], rows[j].TcRounded)).ToArray();
        var evaluated = Integerisation.Evaluate(maxAtoms, samples, cs => ModelPredictions.Predict(tc, cs));
        return rows.Select((r, j) => new IntegerisationPoint(maxAtoms, r.Candidate, evaluated[j]));
    }

    (BaseOutcome? Outcome, string? Error) RunKiago(BaseMaterial material, int index, ExperimentOptions options, int? maxAtoms, CancellationToken cancel,
        IntegerisationArm arm = IntegerisationArm.Reference)
    {
        var settings = Settings(options, maxAtoms);
        DesignBase designBase;
        if (options.Kind == ExperimentKind.Substitution)
        {
            if (material.Substitution is not { } spec) return (null, "no substitution target in the base list");
            designBase = new DesignBase(material.Name, material.Composition, new SubstitutionTarget(spec.Target.Symbol, spec.OxidationState));
        }
        else designBase = new DesignBase(material.Name, material.Composition);
        var screen = new ChemistryScreen(hydride: options.Kind == ExperimentKind.Hydride, options.OxidationStates);
        try
        {
            if (arm is IntegerisationArm.NoEf or IntegerisationArm.Bare)
                settings = settings with { Optimiser = settings.Optimiser with { Alpha = 0f } };
            if (arm is IntegerisationArm.NoMask or IntegerisationArm.Bare)
            {
                // a top-k mask that keeps every element that can appear
                var r = BaseDesigner.Check(settings, designBase);
                int reachable = Enumerable.Range(0, r.Allowed.Length).Count(i => r.Allowed[i] != 0f || r.Fixed[i] != 0f);
                settings = settings with
                {
                    Optimiser = settings.Optimiser with { MaxElements = reachable },
                    Constraints = settings.Constraints with { MaxElements = reachable },
                };
            }
            var designer = new BaseDesigner(backend, tc, ef, screen) { Novelty = Novelty };
            return (designer.Run(settings, designBase, index, cancel), null);
        }
        catch (ConstraintException e)
        {
            return (null, e.Message);
        }
    }

    /// <summary>The reference's settings for one experiment kind (reference §6 table).</summary>
    public static DesignSettings Settings(ExperimentOptions options, int? maxAtoms = null) => options.Kind switch
    {
        ExperimentKind.Hydride => new DesignSettings
        {
            Candidates = options.Candidates, Seed = options.Seed,
            Optimiser = new OptimiserOptions { Steps = options.Steps, LearningRate = 0.04f, MaxElements = 2 },
            Initialiser = ReferenceInitialiser.Hydride,
            Constraints = new DesignConstraints
            {
                MaxElements = 2, MaxAtoms = maxAtoms ?? 14, OxidationStates = options.OxidationStates,
                // the reference's x = c + (1 − Σc)·σ(…) with H still optimisable: a floor, H ≥ 0.4
                Minimum = new Dictionary<string, double> { ["H"] = 0.4 },
            },
        },
        _ => new DesignSettings
        {
            Candidates = options.Candidates, Seed = options.Seed,
            Optimiser = new OptimiserOptions { Steps = options.Steps, LearningRate = 0.03f, MaxElements = 8 },
            Constraints = new DesignConstraints { MaxElements = 8, MaxAtoms = maxAtoms ?? 199, OxidationStates = options.OxidationStates },
        },
    };
}
