using System.CommandLine;
using System.Globalization;
using Kiago.Cli.Eval;
using Kiago.Cli.Runs;
using Kiago.Kernels.Composition;
using Kiago.Design.Experiments;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago experiment normal|substitution|hydride --bases FILE.json --tc-model --ef-model [--candidates] [--steps]
/// [--ces-samples] [--seed] [--integerisation 15,20,25,50,100] [--shard I/N] [--only BASES] [--resume] --out DIR</c>: KIAGO
/// and C-ES on every base, with the paper's tables in DIR/tables.md and each method's run directory in DIR/kiago and
/// DIR/ces; one base at a time into verified parts (<see cref="ExperimentLayout"/>), so it resumes, shards and merges.
/// </summary>
internal static class ExperimentCommand
{
    /// <summary>
    /// SD+CG's default guidance weight: the paper's choice, 1e-3. Our w·β·∇ scale is within 2× of the paper's (the
    /// Table-4 sweep, docs/EXPERIMENTS.md), so the reproduction keeps its value; stronger guidance is --sd-guidance.
    /// </summary>
    public const double DefaultGuidance = 0.001;

    public static Command Create()
    {
        var kind = new Argument<string>("kind") { Description = "normal | substitution | hydride" };
        var bases = new Option<string>("--bases") { Description = "Base list, e.g. ../shared/data/experiments/reference_sample_configs/experiment_usual_dict.json", Required = true };
        var tcModel = ModelOptions.Tc("Tc predictor (.kgw, tc-resnet)", required: true);
        var efModel = ModelOptions.Ef("Formation-energy predictor (.kgw, elemnet)", required: true);
        var candidates = new Option<int>("--candidates") { Description = "KIAGO candidates per base", DefaultValueFactory = _ => 4096 };
        var steps = new Option<int>("--steps") { Description = "KIAGO steps", DefaultValueFactory = _ => 1000 };
        var cesSamples = new Option<int?>("--ces-samples") { Description = "C-ES samples per base (default: --candidates)" };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var maxAtoms = new Option<int?>("--max-atoms") { Description = "KIAGO's N-set maximum (default 199; hydride 14)" };
        var integerisation = new Option<string?>("--integerisation") { Description = "Max-atoms values for the Table-1 comparison (normal only), e.g. 15,20,25,50,100" };
        var arm = new Option<string>("--integerisation-arm") { Description = "Table 1's integer-loss arm: reference (KIAGO as run) | no-ef (without the Ef term) | no-mask (without the top-k element mask) | bare (without both) — the last three diagnose the gap to rounding, they are not the reference protocol", DefaultValueFactory = _ => "reference" };
        var outDir = OutputOptions.Folder("Output folder (tables.md, kiago/, ces/, manifest.json)", required: true);
        var oxStates = new Option<string>("--ox-states") { Description = "Oxidation-state table of the screening and the substituents: smact14 (the published default) | pymatgen-common | icsd", DefaultValueFactory = _ => "smact14" };
        var resume = new Option<bool>("--resume") { Description = "Finish an interrupted experiment in --out (same arguments): completed bases are kept, the rest run" };
        var shard = RunOptions.Shard();
        var only = RunOptions.Only();
        var superdiff = new Option<string?>("--superdiff") { Description = "Also run SuperDiff (SD) and SuperDiff with classifier guidance (SD+CG) with this denoiser (.kgw), normal and substitution only" };
        var sdSamples = new Option<int?>("--sd-samples") { Description = "SD and SD+CG samples per base (default: the C-ES samples)" };
        var sdSteps = new Option<int?>("--sd-steps") { Description = "SD denoising steps (default: the denoiser's timesteps)" };
        var sdGuidance = new Option<double>("--sd-guidance") { Description = "SD+CG guidance weight w (default the paper's 1e-3; docs/EXPERIMENTS.md, the Table-4 sweep)", DefaultValueFactory = _ => DefaultGuidance };
        var command = new Command("experiment", "Run one of the paper's experiments (KIAGO and C-ES) and write its tables")
        {
            kind, bases, tcModel, efModel, candidates, steps, cesSamples, seed, maxAtoms, integerisation, arm, outDir, oxStates, resume, shard, only,
            superdiff, sdSamples, sdSteps, sdGuidance,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(r =>
        {
            var error = r.InvocationConfiguration.Error;
            var experiment = r.GetRequiredValue(kind).ToLowerInvariant() switch
            {
                "normal" => ExperimentKind.Normal,
                "substitution" or "es" => ExperimentKind.Substitution,
                "hydride" or "hsc" => ExperimentKind.Hydride,
                var k => throw new UserInputException($"experiment \"{k}\": expected normal, substitution or hydride"),
            };
            int[] maxAtomsList = ParseList(r.GetValue(integerisation));
            var options = new ExperimentOptions
            {
                Kind = experiment, Candidates = Positive(r.GetValue(candidates), "--candidates"), Steps = Positive(r.GetValue(steps), "--steps"),
                CesSamples = r.GetValue(cesSamples) is { } cs ? Positive(cs, "--ces-samples") : null, Seed = r.GetValue(seed),
                MaxAtoms = r.GetValue(maxAtoms), IntegerisationMaxAtoms = maxAtomsList, IntegerisationArm = ParseArm(r.GetValue(arm)!),
                OxidationStates = Design.DesignCommand.ParseTable(r.GetValue(oxStates)!),
            };
            if (options.IntegerisationArm != IntegerisationArm.Reference && (maxAtomsList.Length == 0 || experiment != ExperimentKind.Normal))
                throw new UserInputException("--integerisation-arm changes the Table-1 arm: it needs the normal experiment and --integerisation");
            var list = EvalIO.Bases(null, r.GetRequiredValue(bases), null, null);
            var names = list.Select(b => b.Name).ToList();
            var shardSpec = Shard.Parse(r.GetValue(shard));
            var selection = RunOptions.ParseOnly(r.GetValue(only), names);
            string command = "experiment " + experiment.ToString().ToLowerInvariant();
            string dir = OutputOptions.PrepareFolder(r.GetRequiredValue(outDir)!);
            using var backend = compute.CreateBackend(r);
            using var tc = EvalIO.LoadModel(r.GetRequiredValue(tcModel), backend, ModelOptions.TcOption)!;
            using var ef = EvalIO.LoadModel(r.GetRequiredValue(efModel), backend, ModelOptions.EfOption)!;
            string? denoiserPath = r.GetValue(superdiff);
            if (denoiserPath is not null && experiment == ExperimentKind.Hydride)
                throw new UserInputException("--superdiff: the paper compares SuperDiff on the normal and substitution experiments only");
            if (denoiserPath is not null && !File.Exists(denoiserPath)) throw new UserInputException($"--superdiff {denoiserPath}: file not found");
            using var denoiser = denoiserPath is null ? null : Kiago.Nets.Diffusion.DenoiserModel.Load(denoiserPath, backend);
            Kiago.Design.Baselines.SuperDiff.SuperDiffOptions? sdOptions = null;
            if (denoiser is not null)
            {
                sdOptions = new Kiago.Design.Baselines.SuperDiff.SuperDiffOptions
                {
                    Samples = r.GetValue(sdSamples) is { } n ? Positive(n, "--sd-samples") : options.EffectiveCesSamples,
                    Steps = r.GetValue(sdSteps) is { } st ? Positive(st, "--sd-steps") : denoiser.Settings.Timesteps,
                    GuidanceWeight = r.GetValue(sdGuidance), Seed = options.Seed,
                };
                sdOptions.Validate(denoiser.Settings.Timesteps);
                if (sdOptions.GuidanceWeight <= 0) throw new UserInputException("--sd-guidance must be > 0 (SD+CG is the guided arm; SD runs without guidance)");
                options = options with { SuperDiff = sdOptions };
            }
            using var guidance = sdOptions is null ? null
                : new Kiago.Design.Baselines.SuperDiff.CompositionGuidance(tc, ef, sdOptions.GuidanceEfWeight, Math.Min(sdOptions.BatchSize, sdOptions.Samples));
            var runner = new ExperimentRunner(backend, tc, ef)
            {
                Log = line => error.WriteLine($"kiago: {line}"),
                Novelty = new Kiago.Design.Novelty.NoveltySearch(Kiago.Design.Novelty.KnownCompositions.Builtin),
                SuperDiff = denoiser is null ? null : new SuperDiffArms(new Kiago.Design.Baselines.SuperDiff.SuperDiffSampler(denoiser, null),
                    new Kiago.Design.Baselines.SuperDiff.SuperDiffSampler(denoiser, guidance), sdOptions!),
            };
            var request = new RunRequest(command,
            [
                new("bases", r.GetRequiredValue(bases)), new("candidates", options.Candidates.ToString(CultureInfo.InvariantCulture)),
                new("steps", options.Steps.ToString(CultureInfo.InvariantCulture)), new("ces_samples", options.EffectiveCesSamples.ToString(CultureInfo.InvariantCulture)),
                new("seed", options.Seed.ToString(CultureInfo.InvariantCulture)),
                new("max_atoms", options.MaxAtoms?.ToString(CultureInfo.InvariantCulture) ?? ""),
                new("integerisation", string.Join(",", maxAtomsList.Select(m => m.ToString(CultureInfo.InvariantCulture)))),
                new("integerisation_arm", r.GetValue(arm)!),
                new("tc_model", r.GetRequiredValue(tcModel)!), new("ef_model", r.GetRequiredValue(efModel)!),
                new("ox_states", r.GetValue(oxStates)!),
                .. SuperDiffArguments(denoiserPath, sdOptions),
            ], names, options.Seed, dir, r.GetValue(resume), backend.DeviceName,
            [RunManifest.WeightsEntry("tc-model", r.GetRequiredValue(tcModel)), RunManifest.WeightsEntry("ef-model", r.GetRequiredValue(efModel)),
             .. (denoiserPath is null ? [] : new[] { RunManifest.WeightsEntry("denoiser", denoiserPath) })],
            experiment == ExperimentKind.Hydride ? "hydride" : "standard", shardSpec, selection);
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            RunResult result;
            try
            {
                bool withSd = denoiser is not null;
                result = new RunSession(ExperimentLayout.For(command, withSd), error).Run(request,
                    (i, token) => ExperimentLayout.Parts(i, runner.RunBase(list[i], i, list.Count, options, token), withSd), cts.Token);
            }
            finally { Console.CancelKeyPress -= onCancel; }
            if (!result.Completed)
            {
                error.WriteLine($"kiago: cancelled: {result.BasesDone} of {result.BasesTotal} bases complete in {dir}; finish with the same command and --resume");
                return Design.DesignCommand.Cancelled;
            }
            r.InvocationConfiguration.Output.Write(File.ReadAllText(Path.Combine(dir, ExperimentLayout.TablesFile)));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The SuperDiff arms' canonical arguments (none without --superdiff, so older runs keep their arguments).</summary>
    static KeyValuePair<string, string>[] SuperDiffArguments(string? denoiser, Kiago.Design.Baselines.SuperDiff.SuperDiffOptions? o) =>
        denoiser is null || o is null ? [] :
        [
            new(ExperimentLayout.SuperDiffArgument, denoiser), new("sd_samples", o.Samples.ToString(CultureInfo.InvariantCulture)),
            new("sd_steps", o.Steps.ToString(CultureInfo.InvariantCulture)), new("sd_guidance", o.GuidanceWeight.ToString("R", CultureInfo.InvariantCulture)),
        ];

    static int Positive(int value, string option) => value >= 1 ? value : throw new UserInputException($"{option} must be >= 1 (got {value})");

    static int[] ParseList(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        return [.. text.Split(',').Select(s => int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v
            : throw new UserInputException($"--integerisation: \"{s.Trim()}\" is not a positive integer"))];
    }

    static IntegerisationArm ParseArm(string value) => value switch
    {
        "reference" => IntegerisationArm.Reference,
        "no-ef" => IntegerisationArm.NoEf,
        "no-mask" => IntegerisationArm.NoMask,
        "bare" => IntegerisationArm.Bare,
        _ => throw new UserInputException($"--integerisation-arm: \"{value}\" is not one of reference, no-ef, no-mask, bare"),
    };
}
