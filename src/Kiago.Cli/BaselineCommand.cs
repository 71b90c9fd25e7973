using System.CommandLine;
using System.Globalization;
using Kiago.Cli.Eval;
using Kiago.Cli.Runs;
using Kiago.Design.Baselines;
using Kiago.Kernels;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago baseline ces --base FORMULA|--bases file.json [--samples 4096] [--mode normal|substitution|hydride] [--seed]
/// [--tc-model] [--ef-model] [--shard I/N] [--resume] --out DIR</c>: the conventional element-substitution baseline,
/// screened and summarised with the same columns as <c>kiago optimise</c>, one base at a time into resumable parts.
/// </summary>
internal static class BaselineCommand
{
    public static Command Create()
    {
        var baseOption = new Option<string?>("--base") { Description = "One base formula, e.g. LaFeAsO" };
        var bases = new Option<string?>("--bases") { Description = "Base list: the reference's JSON (e.g. ../shared/data/experiments/rule_based_ref_mat/experiment_usual_dict.json) or a CSV as for optimise (formula[, target, ox])" };
        var samples = new Option<int>("--samples") { Description = "Samples per base", DefaultValueFactory = _ => 4096 };
        var mode = new Option<string>("--mode") { Description = "normal | substitution | hydride", DefaultValueFactory = _ => "normal" };
        var seed = new Option<long>("--seed") { Description = "Seed of our generator (the reference used 1234 with numpy)", DefaultValueFactory = _ => 1234 };
        var maxAtoms = new Option<int?>("--max-atoms") { Description = "Atom limit (default 200; hydride 15)" };
        var maxElements = new Option<int?>("--max-elements") { Description = "Element limit (default 10; hydride 3)" };
        var target = new Option<string?>("--target") { Description = "Substitution target for --base in substitution mode, e.g. La" };
        var ox = new Option<int?>("--ox-state") { Description = "Oxidation state of the substitution (default: the target's first positive common state)" };
        var tcModel = ModelOptions.Tc("Tc predictor (.kgw, tc-resnet); without it Tc is NaN");
        var efModel = ModelOptions.Ef("Formation-energy predictor (.kgw, elemnet); without it Ef is NaN and the Ef < 0 check fails");
        var outDir = OutputOptions.Folder("Output directory", required: true);
        var known = new Option<string?>("--known") { Description = "CSV of known compositions (column 'formula', optional 'tc_kelvin') for the novelty columns; default: the built-in index" };
        var novelOnly = new Option<bool>("--novel-only") { Description = "Drop samples whose reduced formula is a known composition from candidates.csv (summaries count every sample)" };
        var shard = RunOptions.Shard();
        var resume = new Option<bool>("--resume") { Description = "Finish an interrupted run in --out (same arguments)" };
        var ces = new Command("ces", "Conventional element substitution (reference §8): random same-oxidation-state replacement, integer amounts")
        {
            baseOption, bases, samples, mode, seed, maxAtoms, maxElements, target, ox, tcModel, efModel, outDir, known, novelOnly, shard, resume,
        };
        var compute = ComputeOptions.AddTo(ces);
        ces.SetAction(r =>
        {
            var error = r.InvocationConfiguration.Error;
            var cesMode = r.GetValue(mode)!.ToLowerInvariant() switch
            {
                "normal" => CesMode.Normal,
                "substitution" or "es" => CesMode.Substitution,
                "hydride" or "hsc" => CesMode.Hydride,
                var m => throw new UserInputException($"--mode \"{m}\": expected normal, substitution or hydride"),
            };
            var options = new CesOptions
            {
                Mode = cesMode, Samples = r.GetValue(samples), Seed = r.GetValue(seed),
                MaxAtoms = r.GetValue(maxAtoms), MaxElements = r.GetValue(maxElements),
            };
            options.Validate();
            var list = EvalIO.Bases(r.GetValue(baseOption), r.GetValue(bases), r.GetValue(target), r.GetValue(ox));
            var knownList = Design.KnownListReader.Load(r.GetValue(known), "--known", error);
            bool dropKnown = r.GetValue(novelOnly);
            string dir = OutputOptions.PrepareFolder(r.GetRequiredValue(outDir)!);
            var shardSpec = Shard.Parse(r.GetValue(shard));
            string I(long v) => v.ToString(CultureInfo.InvariantCulture);

            using (var backend = compute.CreateBackend(r))
            {
                // μ columns are the flagship's (as in optimise); a .kgu beside a model adds its σ and domain columns
                void Notice(string line) => error.WriteLine($"kiago: note: {line}");
                using var tc = LoadUncertain(r.GetValue(tcModel), ModelOptions.TcOption, backend, Notice);
                using var ef = LoadUncertain(r.GetValue(efModel), ModelOptions.EfOption, backend, Notice);
                var evaluator = new CesEvaluator(tc?.Flagship, ef?.Flagship)
                {
                    Novelty = new Kiago.Design.Novelty.NoveltySearch(knownList), TcUncertainty = tc, EfUncertainty = ef,
                };
                var request = new RunRequest("baseline ces",
                [
                    new("mode", cesMode.ToString().ToLowerInvariant()), new("samples", I(options.Samples)), new("seed", I(options.Seed)),
                    new("max_atoms", I(options.EffectiveMaxAtoms)), new("max_elements", I(options.EffectiveMaxElements)),
                    new("base", r.GetValue(baseOption) ?? ""), new("bases", r.GetValue(bases) ?? ""),
                    new("target", r.GetValue(target) ?? ""), new("ox_state", r.GetValue(ox) is { } o ? I(o) : ""),
                    new("tc_model", r.GetValue(tcModel) ?? ""), new("ef_model", r.GetValue(efModel) ?? ""),
                    new("known", knownList.Provenance), new("novel_only", dropKnown ? "true" : "false"),
                ], [.. list.Select(b => b.Name)], options.Seed, dir, r.GetValue(resume), backend.DeviceName,
                [RunManifest.WeightsEntry("tc-model", r.GetValue(tcModel)), RunManifest.WeightsEntry("ef-model", r.GetValue(efModel)),
                 .. UncertaintyEntries("tc-model", tc), .. UncertaintyEntries("ef-model", ef)],
                cesMode == CesMode.Hydride ? "hydride" : "standard", shardSpec);
                var result = new RunSession(CesLayout.Layout, error).Run(request, (i, _) =>
                {
                    var generated = CesGenerator.Generate(list[i], i, options);
                    if (generated.SkipReason is { } reason)
                    {
                        error.WriteLine($"kiago: base {i + 1}/{list.Count} {list[i].Name}: skipped: {reason}");
                        return new BaseParts(CesLayout.Parts("", i, list[i].Name, null, reason));
                    }
                    var outcome = evaluator.Evaluate(generated, i, cesMode);
                    error.WriteLine($"kiago: base {i + 1}/{list.Count} {list[i].Name}: {outcome.Summary.Unique} unique, all-pass rate {outcome.Summary.AllPassRate:F3}, ΔTc top-30 {outcome.Summary.DeltaTcTop30:F2} K");
                    // --novel-only drops the known rows from candidates.csv; the summaries describe every sample
                    return new BaseParts(CesLayout.Parts("", i, list[i].Name, outcome, null, dropKnown));
                }, CancellationToken.None);
                r.InvocationConfiguration.Output.WriteLine(Path.Combine(dir, "candidates.csv"));
            }
            return ExitCodes.Ok;
        });
        return new Command("baseline", "Baselines on the same predictors and screening as kiago optimise") { ces, SuperDiffCommand.Create() };
    }

    static Kiago.Nets.Uncertainty.UncertainModel? LoadUncertain(string? path, string option, IBackend backend, Action<string> notice) =>
        path is null ? null : ModelOptions.LoadUncertain(path, option, backend, ModelOptions.QuantityFor(option), notice);

    /// <summary>The .kgu a model's σ came from, as optimise records it (name "tc-model-uncertainty"), or nothing.</summary>
    static IEnumerable<KeyValuePair<string, string>> UncertaintyEntries(string name, Kiago.Nets.Uncertainty.UncertainModel? model) =>
        model?.UncertaintyFilePath is { } kgu ? [RunManifest.WeightsEntry(name + "-uncertainty", kgu)] : [];
}
