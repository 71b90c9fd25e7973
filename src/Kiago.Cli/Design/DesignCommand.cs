using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Cli.Hull;
using Kiago.Design.Hull;
using Kiago.Cli.Runs;
using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Initialisers;
using Kiago.Nets.Architectures;
using Kiago.Design.Novelty;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;
using Kiago.Nets.Uncertainty;

namespace Kiago.Cli.Design;

/// <summary>Which experiment a command runs (reference §6): its defaults differ, the machinery is shared.</summary>
public enum DesignPreset { Normal, Substitution, Hydride }

/// <summary>
/// The options shared by `kiago optimise`, `kiago substitute` and `kiago hydride`, and the one run routine behind
/// them: parse and check everything (bases, constraints, models) before any compute, then run the session.
/// </summary>
internal sealed class DesignCommand
{
    public const int Cancelled = 130;
    public const int MaxCandidates = 1 << 22;
    /// <summary>The manifest argument listing the extra objectives' candidates.csv columns (merge reads the layout from it).</summary>
    public const string ObjectiveColumnsArgument = "objective_columns";

    readonly DesignPreset preset;
    readonly Option<string[]> bases = new("--base") { Description = "Base material formula (repeatable), e.g. YBa2Cu3O7", AllowMultipleArgumentsPerToken = false };
    readonly Option<string?> basesFile = new("--bases") { Description = "Bases from a CSV (column 'formula'[, 'target', 'ox']) or the reference JSON list" };
    readonly Option<int> candidates = new("--candidates") { Description = "Candidates optimised together per base", DefaultValueFactory = _ => 4096 };
    readonly Option<int> steps = new("--steps") { Description = "Adam steps (stage 2 starts at steps/2)", DefaultValueFactory = _ => 1000 };
    readonly Option<float?> lr = new("--lr") { Description = "Adam learning rate (default 0.03; hydride 0.04)" };
    readonly Option<float> alpha = new("--alpha") { Description = "Formation-energy weight α in −Tc + α·Ef", DefaultValueFactory = _ => 4f };
    readonly Option<int?> maxElements = new("--max-elements") { Description = "k: elements kept at the stage switch (default 8; hydride 2; paper mode 10)" };
    readonly Option<int?> maxAtoms = new("--max-atoms") { Description = "Largest N of the integer-loss N-set {1..N} (default 199; hydride 14; paper 25/15)" };
    readonly Option<string[]> allow = new("--allow") { Description = "Only these elements may be optimised (comma-separated, repeatable)" };
    readonly Option<string[]> deny = new("--deny") { Description = "These elements may not appear (comma-separated, repeatable)" };
    readonly Option<string[]> fix = new("--fix") { Description = "Fixed atom fraction El=frac (repeatable): every final formula has it within its rounding, e.g. O=0.5" };
    readonly Option<string[]> min = new("--min") { Description = "Floor El=frac (repeatable): El stays optimisable with x_El ≥ frac (the reference's fixed part; hydride: H=0.4)" };
    readonly Option<string[]> max = new("--max") { Description = "Ceiling El=frac (repeatable): every final formula has n_El ≤ frac·n_total" };
    readonly Option<string> presetOption = new("--preset") { Description = "published (the reference's formulas and screening) | practical (gcd-reduced formulas of ≤ --max-atoms atoms, default 30; pymatgen-common oxidation states; radioactive elements denied unless --allow'ed)", DefaultValueFactory = _ => "published" };
    readonly Option<string?> oxStates = new("--ox-states") { Description = "Oxidation-state table of the screening and of the substituents: smact14 (published) | pymatgen-common (practical) | icsd" };
    readonly Option<string?> known = new("--known") { Description = "CSV of known compositions (column 'formula', optional 'tc_kelvin') for the novelty columns; default: the built-in SuperCon + non-superconductor index" };
    readonly Option<float> kappa = new("--kappa") { Description = "κ ≥ 0 of the uncertainty-aware objective −(μ_Tc − κσ_Tc) + α(μ_Ef + κσ_Ef) (needs a .kgu beside a model); 0 = the published objective", DefaultValueFactory = _ => 0f };
    readonly Option<bool> novelOnly = new("--novel-only") { Description = "Drop candidates whose reduced formula is a known composition from candidates.csv (summaries still count every candidate)" };
    readonly Option<long> seed = new("--seed") { Description = "Seed of the initialiser streams", DefaultValueFactory = _ => 0 };
    readonly Option<string?> tcModel = WithDefault(ModelOptions.Tc("Tc predictor (.kgw, tc-resnet), or 'random' (untrained ResNet18, smoke runs only)"), ModelOptions.DefaultTcModel);
    readonly Option<string?> efModel = WithDefault(ModelOptions.Ef("Formation-energy predictor (.kgw, elemnet), or 'random'"), ModelOptions.DefaultEfModel);
    ComputeOptions compute = null!;
    readonly Option<string> mode = new("--mode") { Description = "published (the reference code) | paper (|·| integer loss, β = 1, N ≤ 25, k = 10)", DefaultValueFactory = _ => "published" };
    readonly Option<int> traceEvery = new("--trace-every") { Description = "Record traces and progress every this many steps", DefaultValueFactory = _ => 10 };
    readonly Option<string?> outDir = OutputOptions.Folder("Output folder (candidates.csv, summary.csv/json, traces.csv, manifest.json)");
    readonly Option<bool> resume = new("--resume") { Description = "Finish an interrupted run in --out (same arguments)" };
    readonly Option<string?> shard = RunOptions.Shard();
    readonly Option<bool> quiet = new("--quiet") { Description = "No progress on stderr" };
    readonly Option<bool> json = new("--json") { Description = "Print the run summary as JSON on stdout" };
    readonly Option<bool> benchmark = new("--benchmark") { Description = "Time whole optimiser steps (no outputs): candidate-steps/s" };
    readonly Option<string?> hullReference = new("--hull-reference") { Description = "CSV of reference compositions: adds e_above_hull (eV/atom, predicted by --ef-model) to candidates.csv" };
    readonly Option<string> hullFormulaColumn = new("--hull-formula-column") { Description = "Column of --hull-reference holding the formulas", DefaultValueFactory = _ => "formula" };
    readonly Option<string[]> objectives = new("--objective")
    {
        Description = "Extra objective NAME=FILE.kgw:WEIGHT[:maximise|minimise] (repeatable; default minimise): adds ±WEIGHT·prediction to the loss and a NAME column (+ NAME_sigma with a .kgu) to candidates.csv",
        AllowMultipleArgumentsPerToken = false,
    };
    readonly Option<string?> target = new("--target") { Description = "Element of the base to substitute", Required = false };
    readonly Option<int?> ox = new("--ox") { Description = "Oxidation state substituents must share (default: the target's first positive common state)" };

    DesignCommand(DesignPreset preset) => this.preset = preset;

    public static Command Create(string name, string description, DesignPreset preset)
    {
        var d = new DesignCommand(preset);
        var command = new Command(name, description)
        {
            d.bases, d.basesFile, d.candidates, d.steps, d.lr, d.alpha, d.maxElements, d.maxAtoms, d.allow, d.deny,
            d.seed, d.tcModel, d.efModel, d.mode, d.traceEvery, d.outDir, d.resume, d.shard, d.quiet, d.json,
            d.hullReference, d.hullFormulaColumn, d.max, d.presetOption, d.oxStates, d.known, d.novelOnly, d.kappa, d.objectives,
        };
        d.compute = ComputeOptions.AddTo(command);
        if (preset != DesignPreset.Substitution) { command.Options.Add(d.fix); command.Options.Add(d.min); }
        if (preset == DesignPreset.Substitution) { command.Options.Add(d.target); command.Options.Add(d.ox); }
        if (preset == DesignPreset.Normal) command.Options.Add(d.benchmark);
        command.SetAction(parse => d.Run(parse));
        return command;
    }

    int Run(ParseResult parse)
    {
        var stdout = parse.InvocationConfiguration.Output;
        var stderr = parse.InvocationConfiguration.Error;
        bool paper = parse.GetValue(mode) switch
        {
            "published" => false,
            "paper" => true,
            var m => throw new UserInputException($"--mode must be published or paper, got '{m}'"),
        };
        bool practical = parse.GetValue(presetOption) switch
        {
            "published" => false,
            "practical" => true,
            var p => throw new UserInputException($"--preset must be published or practical, got '{p}'"),
        };
        var settings = Settings(parse, paper, practical, out var args, out var oxTable);
        var shardSpec = Shard.Parse(parse.GetValue(shard));
        var baseList = Bases(parse);
        // every base's constraints are checked before any compute
        foreach (var b in baseList)
        {
            try { BaseDesigner.Check(settings, b); }
            catch (ConstraintException e) { throw new UserInputException($"base {b.Name}: {e.Message}", e); }
        }
        if (settings.Optimiser.Alpha < 0)
            stderr.WriteLine($"kiago: note: --alpha {F(settings.Optimiser.Alpha)} is negative: the loss −Tc + α·Ef then rewards a high " +
                "(less stable) formation energy; the paper uses α = 4");
        var request = compute.Request(parse);
        int threads = compute.ThreadCount(parse);

        // the reference file is read and checked in full before any compute
        HullReferenceSet? hullReferences = null;
        if (parse.GetValue(hullReference) is { } hullPath)
        {
            string column = parse.GetValue(hullFormulaColumn)!;
            hullReferences = HullReferenceReader.Read(hullPath, column, "--hull-reference");
            // only a run with a hull records it, so manifests (and --resume) of runs without one are unchanged
            args.Add(new("hull_reference", hullPath));
            args.Add(new("hull_formula_column", column));
        }

        // the known-compositions list is read (and its bad rows reported) before any compute
        var knownList = KnownListReader.Load(parse.GetValue(known), "--known", stderr);
        args.Add(new("known", parse.GetValue(known) is { } knownPath ? $"{knownPath} ({knownList.Count} compositions)" : "built-in"));
        if (parse.GetValue(novelOnly)) args.Add(new("novel_only", "true"));

        bool bench = preset == DesignPreset.Normal && parse.GetValue(benchmark);
        string? dir = parse.GetValue(outDir);
        if (!bench && dir is null) throw new UsageException("--out DIR is required (where candidates.csv and the other tables go)");

        using var backend = BackendFactory.Create(request, threads);
        var weights = new List<KeyValuePair<string, string>>();
        weights.Add(new("known_compositions", knownList.Provenance));
        Action<string>? notice = parse.GetValue(quiet) ? null : line => stderr.WriteLine($"kiago: note: {line}");
        using var tcLoaded = LoadModel(ShippedWeights.Resolve(parse, tcModel), "--tc-model", backend, weights, notice, out var frequencies);
        using var efLoaded = LoadModel(ShippedWeights.Resolve(parse, efModel), "--ef-model", backend, weights, notice, out _);
        var (tc, ef) = (tcLoaded.Mu, efLoaded.Mu);
        WarnAboutUnseenElements(baseList, efLoaded.Kind, stderr);
        var extraObjectives = new List<ExtraObjective>();
        using var objectiveModels = new DisposableList();
        foreach (var spec in ObjectiveSpec.ParseAll(parse.GetValue(objectives) ?? []))
        {
            var model = ModelOptions.LoadUncertain(spec.File, $"--objective {spec.Name}", backend, expected: null, notice);
            objectiveModels.Add(model);
            weights.Add(RunManifest.WeightsEntry("objective-" + spec.Name, spec.File));
            if (model.UncertaintyFilePath is { } kgu) weights.Add(RunManifest.WeightsEntry("objective-" + spec.Name + "-uncertainty", kgu));
            extraObjectives.Add(new ExtraObjective(spec.Name, model.Flagship, spec.Weight, spec.Maximise, model));
            args.Add(new("objective", spec.ToString()));
        }
        var objectiveColumns = DesignTables.ObjectiveColumns(extraObjectives);
        if (objectiveColumns.Length > 0) args.Add(new(ObjectiveColumnsArgument, string.Join(",", objectiveColumns)));
        float k = settings.Optimiser.Kappa;
        if (k > 0)
        {
            bool tcSigma = tcLoaded.Uncertain is { HasUncertainty: true }, efSigma = efLoaded.Uncertain is { HasUncertainty: true };
            if (!tcSigma && !efSigma)
                throw new UserInputException($"--kappa {F(k)}: neither --tc-model {parse.GetValue(tcModel)} nor --ef-model {parse.GetValue(efModel)} has uncertainty data " +
                    "(a .kgu beside the .kgw; `kiago calibrate` builds one), so there is no σ to penalise");
            if (!tcSigma) notice?.Invoke($"--kappa {F(k)}: the Tc model has no uncertainty data, only Ef's σ is penalised");
            if (!efSigma) notice?.Invoke($"--kappa {F(k)}: the Ef model has no uncertainty data, only Tc's σ is penalised");
        }
        if (frequencies is not null)
        {
            settings = settings with { ElementFrequencies = frequencies };
            args.Add(new("element_frequencies", "tc model card"));
        }
        else args.Add(new("element_frequencies", "uniform over the allowed elements (no model card table)"));

        if (dir is not null) OutputOptions.PrepareFolder(dir); // after everything that can be refused, before any compute
        if (bench) return Benchmark(backend, tc, ef, settings, baseList[0], stdout, stderr);

        // the practical preset fails an element alone (SMACT passes it): a design run is after new compounds
        var screen = new ChemistryScreen(preset == DesignPreset.Hydride, oxTable, threads, singleElements: !practical);
        var designer = new BaseDesigner(backend, tc, ef, screen)
        {
            Novelty = new NoveltySearch(knownList),
            TcUncertainty = tcLoaded.Uncertain, EfUncertainty = efLoaded.Uncertain,
            Objectives = extraObjectives,
        };
        var hull = hullReferences is null ? null : new PredictedHull(hullReferences, ef);
        var hullProgress = parse.GetValue(quiet) ? null : stderr;
        var session = new DesignSession(designer, screen.Name, parse.GetValue(quiet) ? null : stderr)
        {
            EnergyAboveHull = hull is null ? null : rows => CandidateHullColumn.Compute(hull, rows, hullProgress is null ? null : hullProgress.WriteLine),
            ObjectiveColumns = objectiveColumns,
            Warnings = stderr,
        };
        var runRequest = new DesignRunRequest(CommandName, args, baseList, settings, dir!, parse.GetValue(resume), backend.DeviceName, weights, shardSpec);
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // cooperative: the current step finishes, completed bases stay on disk
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        SessionResult result;
        try { result = session.Run(runRequest, cts.Token); }
        finally { Console.CancelKeyPress -= onCancel; }
        if (parse.GetValue(json))
            stdout.WriteLine($"{{\"out\": {JsonSerializer.Serialize(Path.GetFullPath(dir!))}, \"complete\": {(result.Completed ? "true" : "false")}, " +
                $"\"bases_done\": {result.BasesDone}, \"bases\": {result.BasesTotal}, \"seconds\": {result.Seconds.ToString("0.###", CultureInfo.InvariantCulture)}, " +
                $"\"summary\": {File.ReadAllText(Path.Combine(dir!, "summary.json")).TrimEnd()}}}");
        if (!result.Completed)
        {
            stderr.WriteLine($"kiago: cancelled: {result.BasesDone} of {result.BasesTotal} bases complete in {dir}; finish with the same command and --resume");
            return Cancelled;
        }
        if (!parse.GetValue(quiet)) stderr.WriteLine($"kiago: done: {result.BasesTotal} bases in {result.Seconds:0.0} s → {dir}");
        return ExitCodes.Ok;
    }

    string CommandName => preset switch { DesignPreset.Substitution => "substitute", DesignPreset.Hydride => "hydride", _ => "optimise" };

    DesignSettings Settings(ParseResult parse, bool paper, bool practical, out List<KeyValuePair<string, string>> args, out OxidationStateTable oxTable)
    {
        bool hydride = preset == DesignPreset.Hydride, substitution = preset == DesignPreset.Substitution;
        int n = parse.GetValue(candidates), s = parse.GetValue(steps), every = parse.GetValue(traceEvery);
        if (n < 1) throw new UserInputException($"--candidates must be ≥ 1 (got {n})");
        // one batch holds candidates × 118 fractions in single arrays: beyond this they do not fit (split the bases instead)
        if (n > MaxCandidates) throw new UserInputException($"--candidates {n}: at most {MaxCandidates} per base (one batch)");
        if (s < 1) throw new UserInputException($"--steps must be ≥ 1 (got {s})");
        if (every < 1) throw new UserInputException($"--trace-every must be ≥ 1 (got {every})");
        float rate = parse.GetValue(lr) ?? (hydride ? 0.04f : 0.03f);
        if (!(rate > 0) || !float.IsFinite(rate)) throw new UserInputException($"--lr must be > 0 (got {rate})");
        float a = parse.GetValue(alpha);
        if (!float.IsFinite(a)) throw new UserInputException($"--alpha must be a finite number (got {a})");
        int k = parse.GetValue(maxElements) ?? (hydride ? 2 : paper ? 10 : 8);
        int atoms = parse.GetValue(maxAtoms) ?? (hydride ? (paper ? 15 : 14) : paper ? 25 : practical ? 30 : 199);
        var fixedParts = substitution ? new Dictionary<string, double>() : ParseFractions(parse.GetValue(fix) ?? [], "--fix");
        var floors = substitution ? new Dictionary<string, double>() : ParseFractions(parse.GetValue(min) ?? [], "--min");
        var ceilings = ParseFractions(parse.GetValue(max) ?? [], "--max");
        // the hydride experiment's H ≥ 0.4 is the reference's floor, unless the user fixes or bounds H
        if (hydride && !fixedParts.ContainsKey("H") && !floors.ContainsKey("H")) floors["H"] = 0.4;
        oxTable = parse.GetValue(oxStates) is { } table ? ParseTable(table) : practical ? OxidationStateTable.PymatgenCommon : OxidationStateTable.Smact14;
        var allowList = Split(parse.GetValue(allow)) is { Count: > 0 } al ? al : null;
        var denyList = Split(parse.GetValue(deny));
        if (practical)
            foreach (var symbol in DesignConstraints.Radioactive)
                if (!(allowList?.Contains(symbol, StringComparer.Ordinal) ?? false) && !denyList.Contains(symbol, StringComparer.Ordinal)
                    && !fixedParts.ContainsKey(symbol) && !floors.ContainsKey(symbol)
                    && DesignConstraints.ElemNetZ.Contains(Elements.Get(symbol).Z))
                    denyList.Add(symbol);
        var constraints = new DesignConstraints
        {
            Allow = allowList,
            Deny = denyList,
            Fixed = fixedParts,
            Minimum = floors,
            Maximum = ceilings,
            MaxElements = k,
            MinAtoms = substitution ? 4 : 1,
            MaxAtoms = atoms,
            OxidationStates = oxTable,
        };
        // the N-set bound is a bound on the printed formula in the practical preset, in paper mode (N ≤ 25 must mean
        // ≤ 25 atoms) and whenever --max-atoms is given; the published default keeps the reference's plain rounding
        bool bounded = practical || paper || parse.GetValue(maxAtoms) is not null;
        var formulaRules = new FormulaRules { Reduce = practical, MaxAtoms = bounded && !substitution ? atoms : null };
        InitialiserOptions init = substitution ? new RandomInitialiser() : hydride ? ReferenceInitialiser.Hydride : new ReferenceInitialiser();
        var optimiser = new OptimiserOptions
        {
            Steps = s, LearningRate = rate, Alpha = a, MaxElements = k, TraceEvery = every,
            IntegerSchedule = paper ? IntegerWeightSchedule.Constant : IntegerWeightSchedule.Ramp,
            IntegerWeight = paper ? 1.0 : 1e5,
            Kappa = Kappa(parse),
        };
        args =
        [
            new("mode", paper ? "paper" : "published"), new("candidates", I(n)), new("steps", I(s)), new("lr", F(rate)), new("alpha", F(a)),
            new("max_elements", I(k)), new("n_set", $"{constraints.MinAtoms}..{atoms}"),
            new("allow", string.Join(",", constraints.Allow ?? [])), new("deny", string.Join(",", constraints.Deny)),
            new("fix", Pairs(fixedParts)),
            new("seed", parse.GetValue(seed).ToString(CultureInfo.InvariantCulture)), new("device", compute.DeviceText(parse)),
            new("tc_model", parse.GetValue(tcModel)!), new("ef_model", parse.GetValue(efModel)!),
            new("integer_loss", paper ? "absolute, beta=1" : "squared, ramp W=1e5"), new("initialiser", init.ToString()),
            new("trace_every", I(every)),
            new("bases", string.Join(" ", parse.GetValue(bases) ?? [])), new("bases_file", parse.GetValue(basesFile) ?? ""),
            new("target", parse.GetValue(target) ?? ""), new("ox", parse.GetValue(ox)?.ToString(CultureInfo.InvariantCulture) ?? ""),
        ];
        // recorded only when they differ from the published defaults, so earlier manifests (and --resume) still match
        if (floors.Count > 0) args.Add(new("min", Pairs(floors)));
        if (ceilings.Count > 0) args.Add(new("max", Pairs(ceilings)));
        if (practical) args.Add(new("preset", "practical"));
        if (oxTable != OxidationStateTable.Smact14) args.Add(new("ox_states", TableName(oxTable)));
        if (formulaRules.MaxAtoms is { } bound) args.Add(new("formula_max_atoms", I(bound)));
        if (optimiser.Kappa != 0) args.Add(new("kappa", F(optimiser.Kappa)));
        return new DesignSettings
        {
            Candidates = n, Seed = parse.GetValue(seed), Optimiser = optimiser, Initialiser = init, Constraints = constraints,
            Distance = paper ? IntegerDistance.Absolute : IntegerDistance.Squared,
            Formula = formulaRules, NovelOnly = parse.GetValue(novelOnly),
        };
    }

    float Kappa(ParseResult parse)
    {
        float k = parse.GetValue(kappa);
        if (!(k >= 0) || !float.IsFinite(k)) throw new UserInputException($"--kappa must be a finite number ≥ 0 (got {F(k)})");
        return k;
    }

    static string Pairs(Dictionary<string, double> parts) =>
        string.Join(",", parts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={F(kv.Value)}"));

    internal static OxidationStateTable ParseTable(string name) => name switch
    {
        "smact14" => OxidationStateTable.Smact14,
        "pymatgen-common" => OxidationStateTable.PymatgenCommon,
        "icsd" => OxidationStateTable.PymatgenIcsd,
        _ => throw new UserInputException($"--ox-states must be smact14, pymatgen-common or icsd, got '{name}'"),
    };

    internal static string TableName(OxidationStateTable table) => table switch
    {
        OxidationStateTable.PymatgenCommon => "pymatgen-common",
        OxidationStateTable.PymatgenIcsd => "icsd",
        _ => "smact14",
    };

    IReadOnlyList<DesignBase> Bases(ParseResult parse)
    {
        bool substitution = preset == DesignPreset.Substitution;
        var list = new List<DesignBase>();
        string? t = parse.GetValue(target);
        if (substitution && (parse.GetValue(bases)?.Length ?? 0) > 0 && t is null)
            throw new UsageException("--target is required with --base (which element of the base to substitute)");
        foreach (var formula in parse.GetValue(bases) ?? [])
            list.Add(new DesignBase(formula, BaseListReader.ParseFormula(formula, $"--base '{formula}'"),
                substitution ? new SubstitutionTarget(t!, parse.GetValue(ox)) : null));
        if (parse.GetValue(basesFile) is { } file) list.AddRange(BaseListReader.Read(file, substitution));
        if (list.Count == 0) throw new UsageException("no base material: give --base FORMULA or --bases FILE");
        // the same base twice would run twice with different streams (the stream depends on the base's index)
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < list.Count; i++)
        {
            var b = list[i];
            string key = $"{b.Composition.Normalise().ToCanonicalString()}|{b.Substitution?.Element}|{b.Substitution?.OxidationState}";
            if (!seen.TryAdd(key, i))
                throw new UserInputException($"base {i + 1} ({b.Name}) repeats base {seen[key] + 1} ({list[seen[key]].Name}); give each base once");
        }
        return list;
    }

    /// <summary>A loaded predictor: the μ model the optimiser and the Tc/Ef columns use (always the flagship network),
    /// and, for a .kgw, its uncertain version (σ, domain, the κ objective; without a .kgu it has no uncertainty).</summary>
    sealed class LoadedModel(GraphModel mu, UncertainModel? uncertain) : IDisposable
    {
        public ICompositionModel Mu => mu;
        public ModelKind Kind => mu.Kind;
        public UncertainModel? Uncertain => uncertain;
        public void Dispose() { if (uncertain is not null) uncertain.Dispose(); else mu.Dispose(); }
    }

    static LoadedModel LoadModel(string spec, string option, IBackend backend,
        List<KeyValuePair<string, string>> weights, Action<string>? notice, out double[]? elementFrequencies)
    {
        elementFrequencies = null;
        if (spec == "random")
        {
            weights.Add(new(option.TrimStart('-'), "random (untrained, seeded; predictions are meaningless)"));
            var architecture = option == ModelOptions.TcOption ? RandomArchitectures.ResNet18() : RandomArchitectures.ElemNet();
            return new LoadedModel(new GraphModel(architecture.ToWeightModel(), backend), null);
        }
        if (!File.Exists(spec) && !Directory.Exists(spec))
            throw new UserInputException($"{option} {spec}: file not found (pass a .kgw file, or 'random' for an untrained smoke run)");
        var model = ModelOptions.LoadUncertain(spec, option, backend, ModelOptions.QuantityFor(option), notice);
        weights.Add(RunManifest.WeightsEntry(option.TrimStart('-'), spec));
        if (model.UncertaintyFilePath is { } kgu)
            weights.Add(RunManifest.WeightsEntry(option.TrimStart('-') + "-uncertainty", kgu));
        elementFrequencies = model.Flagship.Model.ElementFrequencies();
        // the flagship is the μ model whatever κ is, so κ = 0 is the published objective byte for byte
        return new LoadedModel(model.Flagship, model);
    }

    /// <summary>A base element outside the Ef model's inputs (e.g. Po, Am for ElemNet's 86) is dropped before it: say so, per base.</summary>
    static void WarnAboutUnseenElements(IReadOnlyList<DesignBase> baseList, ModelKind efKind, TextWriter stderr)
    {
        var fractions = new float[Featuriser.CompositionColumns];
        foreach (var b in baseList)
        {
            Array.Clear(fractions);
            b.Composition.WriteFractions(fractions);
            var unseen = Featuriser.DroppedElements(efKind, fractions);
            if (unseen.Count > 0)
                stderr.WriteLine($"kiago: warning: base {b.Name}: the Ef model ({ModelKinds.Name(efKind)}) cannot see {string.Join(", ", unseen.Select(z => Elements.ByZ(z).Symbol))}; " +
                    "they are dropped from its input, so Ef (and the Ef < 0 screen) ignores them");
        }
    }

    static Option<string?> WithDefault(Option<string?> option, string value)
    {
        option.DefaultValueFactory = _ => value;
        return option;
    }

    static Dictionary<string, double> ParseFractions(string[] values, string option)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var item in Split(values))
        {
            int eq = item.IndexOf('=');
            if (eq <= 0 || !double.TryParse(item[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                throw new UserInputException($"{option}: '{item}' is not El=fraction (e.g. O=0.5)");
            var el = item[..eq].Trim();
            if (!result.TryAdd(el, v)) throw new UserInputException($"{option}: {el} is given twice");
        }
        return result;
    }

    static List<string> Split(string[]? values) =>
        (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();

    static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string F(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>--benchmark: 3 untimed warm-up steps, then the full schedule timed; one line like the PyTorch peer's.</summary>
    static int Benchmark(IBackend backend, ICompositionModel tc, ICompositionModel ef, DesignSettings settings, DesignBase b,
        TextWriter stdout, TextWriter stderr)
    {
        var line = WholeStepBenchmark.Run(backend, tc, ef, settings, b, stderr);
        stdout.WriteLine(line);
        return ExitCodes.Ok;
    }
}
