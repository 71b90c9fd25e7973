using System.CommandLine;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.Eval;
using Kiago.Cli.Runs;
using Kiago.Design.Baselines;
using Kiago.Design.Baselines.SuperDiff;
using Kiago.Design.Experiments;
using Kiago.Nets.Diffusion;
using Kiago.Nets.Featurisers;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago baseline superdiff --base FORMULA|--bases FILE [--denoiser FILE] [--samples 4096] [--steps 1000]
/// [--sampler ddpm|ddim] [--ilvr-scale 1,2,4,6|none] [--guidance W --tc-model …] --out DIR</c>: SuperDiff (a diffusion
/// model over composition vectors) sampled on the engine, conditioned on each base by ILVR, optionally guided by the
/// Tc model's input gradient, thresholded as SuperDiff's evaluate.py does, then screened and summarised with the
/// columns of <c>kiago optimise</c> and <c>baseline ces</c>.
/// </summary>
internal static class SuperDiffCommand
{
    public const string DefaultDenoiser = "weights/superdiff-denoiser.kgw";

    public static Command Create()
    {
        var denoiser = new Option<string?>("--denoiser") { Description = "Denoiser (.kgw of kind denoiser)", DefaultValueFactory = _ => DefaultDenoiser };
        var baseOption = new Option<string?>("--base") { Description = "One base formula (the ILVR reference), e.g. Ba2Cu3O7Y" };
        var bases = new Option<string?>("--bases") { Description = "Base list: the reference's JSON or a CSV as for optimise (formula[, target, ox])" };
        var mode = new Option<string>("--mode") { Description = "normal | substitution (the substitution checks of baseline ces)", DefaultValueFactory = _ => "normal" };
        var target = new Option<string?>("--target") { Description = "Substitution target for --base in substitution mode, e.g. Y" };
        var ox = new Option<int?>("--ox-state") { Description = "Oxidation state of the substitution (default: the target's first positive common state)" };
        var samples = new Option<int>("--samples") { Description = "Samples per base (split equally among the ILVR scales)", DefaultValueFactory = _ => 4096 };
        var steps = new Option<int>("--steps") { Description = "Denoising steps (default: the denoiser's timesteps; fewer respaces the schedule)" };
        var sampler = new Option<string>("--sampler") { Description = "ddpm (ancestral, SuperDiff's) | ddim", DefaultValueFactory = _ => "ddpm" };
        var eta = new Option<double>("--ddim-eta") { Description = "DDIM's eta (0 = deterministic)" };
        var ilvr = new Option<string>("--ilvr-scale") { Description = "ILVR down-sampling factors, comma-separated (the paper: 1,2,4,6), or none for unconditional samples", DefaultValueFactory = _ => "1,2,4,6" };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-guidance weight w (0 = SuperDiff without guidance; the paper chose 1e-3)" };
        var guidanceEf = new Option<double>("--guidance-ef-weight") { Description = "alpha of eqn (13) in the guidance objective Tc - alpha*Ef", DefaultValueFactory = _ => 4 };
        var thresholds = new Option<string>("--thresholds") { Description = "Thresholds scanned after sampling (SuperDiff's evaluate.py: 0.01..0.10)", DefaultValueFactory = _ => "0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1" };
        var decompose = new Option<bool>("--decompose") { Description = "Track the Tc change from denoising, ILVR and guidance over the steps (paper Table 4; two Tc forwards per step)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the sampler's noise", DefaultValueFactory = _ => 0 };
        var tcModel = ModelOptions.Tc("Tc predictor (.kgw): the threshold scan, guidance and the Tc column; without it Tc is NaN (give one --thresholds value)");
        var efModel = ModelOptions.Ef("Formation-energy predictor (.kgw): guidance's Ef term and the Ef < 0 check");
        var outDir = OutputOptions.Folder("Output directory", required: true);
        var known = new Option<string?>("--known") { Description = "CSV of known compositions for the novelty columns; default: the built-in index" };
        var novelOnly = new Option<bool>("--novel-only") { Description = "Drop samples whose reduced formula is known from candidates.csv (summaries count every sample)" };
        var shard = RunOptions.Shard();
        var resume = new Option<bool>("--resume") { Description = "Finish an interrupted run in --out (same arguments)" };
        var command = new Command("superdiff", "SuperDiff (diffusion over composition vectors, ILVR on the base, optional classifier guidance) on the engine")
        {
            denoiser, baseOption, bases, mode, target, ox, samples, steps, sampler, eta, ilvr, guidance, guidanceEf, thresholds, decompose, seed,
            tcModel, efModel, outDir, known, novelOnly, shard, resume,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(r =>
        {
            var error = r.InvocationConfiguration.Error;
            var cesMode = r.GetValue(mode)!.ToLowerInvariant() switch
            {
                "normal" => CesMode.Normal,
                "substitution" or "es" => CesMode.Substitution,
                var m => throw new UserInputException($"--mode \"{m}\": expected normal or substitution"),
            };
            var samplerKind = r.GetValue(sampler)!.ToLowerInvariant() switch
            {
                "ddpm" => DiffusionSampler.Ddpm,
                "ddim" => DiffusionSampler.Ddim,
                var s => throw new UserInputException($"--sampler \"{s}\": expected ddpm or ddim"),
            };
            var list = EvalIO.Bases(r.GetValue(baseOption), r.GetValue(bases), r.GetValue(target), r.GetValue(ox));
            for (int i = 0; i < list.Count; i++) Reference(list[i], list.Count == 1 ? "--base" : $"base {i + 1}");   // refused before sampling
            string denoiserPath = ShippedWeights.Resolve(r, denoiser);
            if (!File.Exists(denoiserPath)) throw new UserInputException($"--denoiser {denoiserPath}: file not found");
            var knownList = Design.KnownListReader.Load(r.GetValue(known), "--known", error);
            bool dropKnown = r.GetValue(novelOnly);
            string dir = OutputOptions.PrepareFolder(r.GetRequiredValue(outDir)!);
            var shardSpec = Shard.Parse(r.GetValue(shard));
            string I(long v) => v.ToString(CultureInfo.InvariantCulture);
            string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

            using var backend = compute.CreateBackend(r);
            using var model = DenoiserModel.Load(denoiserPath, backend);
            var options = new SuperDiffOptions
            {
                Samples = r.GetValue(samples), Steps = r.GetValue(steps) is > 0 and var st ? st : model.Settings.Timesteps,
                Sampler = samplerKind, DdimEta = r.GetValue(eta), IlvrScales = Scales(r.GetValue(ilvr)!),
                GuidanceWeight = r.GetValue(guidance), GuidanceEfWeight = r.GetValue(guidanceEf), Seed = r.GetValue(seed),
                Thresholds = Thresholds(r.GetValue(thresholds)!), Decompose = r.GetValue(decompose),
            };
            if (r.GetResult(steps) is { Implicit: false } && r.GetValue(steps) < 1) throw new UserInputException($"--steps must be >= 1 (got {r.GetValue(steps)})");
            options.Validate(model.Settings.Timesteps);
            void Notice(string line) => error.WriteLine($"kiago: note: {line}");
            using var tc = r.GetValue(tcModel) is { } tcPath ? ModelOptions.LoadUncertain(tcPath, ModelOptions.TcOption, backend, ModelQuantity.Tc, Notice) : null;
            using var ef = r.GetValue(efModel) is { } efPath ? ModelOptions.LoadUncertain(efPath, ModelOptions.EfOption, backend, ModelQuantity.Ef, Notice) : null;
            if (options.GuidanceWeight > 0 && tc is null) throw new UserInputException("--guidance needs --tc-model: the guidance is the Tc model's input gradient");
            if (options.Decompose && tc is null) throw new UserInputException("--decompose needs --tc-model: it tracks Tc through the steps");
            if (options.Thresholds.Count > 1 && tc is null)
                throw new UserInputException($"the threshold scan ({options.Thresholds.Count} thresholds) ranks by predicted Tc: pass --tc-model, or one --thresholds value");
            using var guide = tc is null ? null
                : new CompositionGuidance(tc.Flagship, options.GuidanceWeight > 0 ? ef?.Flagship : null, options.GuidanceEfWeight, Math.Min(options.BatchSize, options.Samples));
            var diffusion = new SuperDiffSampler(model, guide);
            var evaluator = new CesEvaluator(tc?.Flagship, ef?.Flagship)
            {
                Novelty = new Kiago.Design.Novelty.NoveltySearch(knownList), TcUncertainty = tc, EfUncertainty = ef,
            };
            var request = new RunRequest("baseline superdiff",
            [
                new("mode", cesMode.ToString().ToLowerInvariant()), new("samples", I(options.Samples)), new("steps", I(options.Steps)),
                new("sampler", samplerKind.ToString().ToLowerInvariant()), new("ddim_eta", R(options.DdimEta)),
                new("ilvr_scales", string.Join(",", options.IlvrScales)), new("guidance", R(options.GuidanceWeight)),
                new("guidance_ef_weight", R(options.GuidanceEfWeight)), new("thresholds", string.Join(",", options.Thresholds.Select(R))),
                new("decompose", options.Decompose ? "true" : "false"), new("seed", I(options.Seed)),
                new("base", r.GetValue(baseOption) ?? ""), new("bases", r.GetValue(bases) ?? ""),
                new("target", r.GetValue(target) ?? ""), new("ox_state", r.GetValue(ox) is { } o ? I(o) : ""),
                new("tc_model", r.GetValue(tcModel) ?? ""), new("ef_model", r.GetValue(efModel) ?? ""),
                new("known", knownList.Provenance), new("novel_only", dropKnown ? "true" : "false"),
            ], [.. list.Select(b => b.Name)], options.Seed, dir, r.GetValue(resume), backend.DeviceName,
            [RunManifest.WeightsEntry("denoiser", denoiserPath), RunManifest.WeightsEntry("tc-model", r.GetValue(tcModel)),
             RunManifest.WeightsEntry("ef-model", r.GetValue(efModel))],
            "standard", shardSpec);
            new RunSession(SuperDiffLayout.Layout, error).Run(request, (i, _) =>
            {
                var outcome = SuperDiffBaseline.Run(diffusion, evaluator, list[i], i, options, cesMode, tc?.Flagship,
                    (done, total) => { if (done % Math.Max(1, total / 10) == 0 || done == total) error.WriteLine($"kiago: base {i + 1}/{list.Count} {list[i].Name}: step {done}/{total}"); });
                error.WriteLine($"kiago: base {i + 1}/{list.Count} {list[i].Name}: threshold {outcome.Thresholded.Threshold:0.##}, {outcome.Thresholded.Empty} empty, " +
                    $"{outcome.Summary.Unique} unique, all-pass rate {outcome.Summary.AllPassRate:F3}, ΔTc top-30 {outcome.Summary.DeltaTcTop30:F2} K, sampling {outcome.Samples.Seconds:F1} s");
                return new BaseParts(SuperDiffLayout.Parts("", i, list[i].Name, outcome, null, dropKnown),
                    new Dictionary<string, double> { ["sampling_seconds"] = outcome.Samples.Seconds });
            }, CancellationToken.None);
            r.InvocationConfiguration.Output.WriteLine(Path.Combine(dir, "candidates.csv"));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The base's amounts as SuperDiff's 96-vector; a base with an element beyond Cm is refused before sampling.</summary>
    static float[] Reference(BaseMaterial material, string where) =>
        SuperDiffBaseline.Unsupported(material) is { } reason
            ? throw new UserInputException($"{where} {material.Name}: {reason}")
            : SuperDiffBaseline.Reference(material);

    internal static IReadOnlyList<int> Scales(string text)
    {
        if (text.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)) return [];
        var scales = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            scales.Add(int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) && s >= 1
                ? s : throw new UserInputException($"--ilvr-scale \"{part}\": expected whole numbers >= 1, comma-separated, or none"));
        return scales;
    }

    internal static IReadOnlyList<double> Thresholds(string text)
    {
        var list = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
            list.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && double.IsFinite(t) && t >= 0
                ? t : throw new UserInputException($"--thresholds \"{part}\": expected numbers >= 0, comma-separated"));
        return list;
    }
}
