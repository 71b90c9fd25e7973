using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago calibrate --model weights/x.kgw --members m0.onnx m1.onnx … --valid valid.csv --train-compositions train.csv
/// [-o weights/x.kgu]</c>: builds the uncertainty file of a flagship (docs/MODELS.md, "Uncertainty"). The flagship and
/// every member predict the validation split with this engine; <see cref="Calibration.Fit"/> chooses the μ weights
/// and the conformal σ scale on it (never on test); the training compositions become the domain index.
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "flagship .kgw (the file the .kgu is bound to by SHA-256)", Required = true };
        var members = new Option<string[]>("--members")
        {
            Description = "member models: .onnx (converted in fp32 with the sibling NAME.card.json as card) or .kgw",
            AllowMultipleArgumentsPerToken = true,
        };
        var reuse = new Option<string?>("--reuse-members")
        {
            Description = "an existing .kgu whose members come first (e.g. to add a new model family to a shipped ensemble); --members then adds to them",
        };
        var valid = new Option<string>("--valid") { Description = "validation split CSV (formula + target column), e.g. training/splits/tc_valid.csv", Required = true };
        var train = new Option<string>("--train-compositions") { Description = "CSV with a formula column: the training compositions (domain index)", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "the .kgu to write (default: beside --model)" };
        var target = new Option<string?>("--target-column") { Description = "default tc_kelvin (Tc) or formation_energy_ev_per_atom (ElemNet)" };
        var flagshipWeight = new Option<double?>("--flagship-weight") { Description = "fix the flagship's weight in μ (0..1) instead of choosing it on validation" };
        var batch = new Option<int>("--batch") { Description = "compositions per forward pass", DefaultValueFactory = _ => 1024 };
        var noLevel = new Option<bool>("--no-level-term") { Description = "keep sigma's level term off (sigma from the spread and floor only)" };
        var balanceBins = new Option<int>("--balance-bins")
        {
            Description = "choose sigma's floor and level term for even 68 % coverage across N equal-count bins of mu (the narrowest within one standard error of the most even); 0 = the narrowest intervals",
            DefaultValueFactory = _ => 0,
        };
        var noSelection = new Option<bool>("--no-selection")
        {
            Description = "choose mu's weights by the flagship-share grid only (members share equally), without greedy ensemble selection",
        };
        var command = new Command("calibrate", "Build a .kgu uncertainty file: ensemble members + split-conformal calibration on the validation split + domain data")
        {
            model, members, reuse, valid, train, output, target, flagshipWeight, batch, noLevel, balanceBins, noSelection,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(r => Run(r.GetRequiredValue(model), r.GetValue(members) ?? [], r.GetValue(reuse), r.GetRequiredValue(valid), r.GetRequiredValue(train),
            r.GetValue(output), r.GetValue(target), r.GetValue(flagshipWeight), r.GetValue(batch), !r.GetValue(noLevel), r.GetValue(balanceBins), !r.GetValue(noSelection), () => compute.CreateBackend(r),
            r.InvocationConfiguration.Output, r.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string modelPath, string[] memberPaths, string? reusePath, string validPath, string trainPath, string? output, string? targetColumn,
        double? flagshipWeight, int batch, bool levelTerm, int balanceBins, bool selection, Func<Kiago.Kernels.IBackend> createBackend, TextWriter stdout, TextWriter stderr)
    {
        if (batch < 1) throw new UserInputException($"--batch {batch}: must be at least 1");
        if (balanceBins is 1 or < 0) throw new UserInputException($"--balance-bins {balanceBins}: 0 (off) or at least 2");
        if (flagshipWeight is { } fw && fw is < 0 or > 1) throw new UserInputException($"--flagship-weight {fw}: must be within 0..1");
        if (memberPaths.Length == 0 && reusePath is null) throw new UserInputException("--members: give at least one member model (or --reuse-members)");
        var inputs = new[] { (modelPath, "--model"), (validPath, "--valid"), (trainPath, "--train-compositions") }.Concat(memberPaths.Select(p => (p, "--members")));
        if (reusePath is not null) inputs = inputs.Append((reusePath, "--reuse-members"));
        foreach (var (file, option) in inputs)
            if (!File.Exists(file)) throw new UserInputException($"{option} {file}: file not found");
        var flagship = WeightFile.Read(modelPath);
        // reused members keep their provenance: the old card's member entries (source, checksum, training card)
        var reused = reusePath is null ? null : UncertaintyFile.Read(reusePath);
        var reusedCards = reused is null ? null : ParseCard(reused.CardJson)?["members"] as JsonArray;
        var memberModels = (reused?.Members ?? []).Concat(memberPaths.Select(p => LoadMember(p, flagship))).ToList();
        int reusedCount = reused?.Members.Count ?? 0;
        string Option(int k) => k < reusedCount ? $"--reuse-members {reusePath} (member {k})" : $"--members {memberPaths[k - reusedCount]}";
        // members may take another input (e.g. the 118 fractions beside an image flagship) but must predict the same quantity
        for (int k = 0; k < memberModels.Count; k++)
            if (memberModels[k].OutputName != flagship.OutputName || memberModels[k].OutputUnit != flagship.OutputUnit)
                throw new UserInputException($"{Option(k)}: predicts {memberModels[k].OutputName} in {memberModels[k].OutputUnit}; " +
                    $"the flagship predicts {flagship.OutputName} in {flagship.OutputUnit}");
        bool tc = ModelQuantity.Tc.Matches(flagship.OutputName, flagship.OutputUnit);
        string column = targetColumn ?? (tc ? "tc_kelvin" : "formation_energy_ev_per_atom");
        var (validRows, validTargets) = ReadRows(validPath, column);
        var trainRows = ReadRows(trainPath, null).Compositions;

        using var backend = createBackend();
        var outputs = new double[validRows.Count][];
        for (int i = 0; i < outputs.Length; i++) outputs[i] = new double[memberModels.Count + 1];
        var all = new[] { flagship }.Concat(memberModels).ToList();
        for (int j = 0; j < all.Count; j++)
        {
            using var net = new GraphModel(all[j], backend);
            var p = Kiago.Design.Experiments.ModelPredictions.Predict(net, validRows, batch);
            for (int i = 0; i < p.Length; i++) outputs[i][j] = p[i];
            stderr.WriteLine($"kiago: {(j == 0 ? "flagship" : $"member {j - 1}")} predicted {p.Length} validation rows");
        }
        // Tc: calibrated on the positives (the coverage target is stated for them); ElemNet: every row
        var calibrate = Enumerable.Range(0, validRows.Count).Where(i => !tc || validTargets[i] > 0).ToList();
        CalibrationResult fit;
        try
        {
            fit = Calibration.Fit([.. calibrate.Select(i => outputs[i])], [.. calibrate.Select(i => validTargets[i])], flagshipWeight, levelTerm, selection, balanceBins);
        }
        catch (ArgumentException e) { throw new UserInputException($"--valid {validPath}: {e.Message}"); }

        var domain = BuildDomain(trainRows);
        var index = new DomainIndex(domain with { ReferenceDistance = 1 });
        var validDistances = index.NearestDistances(validRows.Select(Fractions));
        float reference = (float)Math.Max(1e-3, UncertaintyMetrics.Quantile(validDistances, 0.95));
        domain = domain with { ReferenceDistance = reference };

        string unit = flagship.OutputUnit;
        var card = new JsonObject
        {
            ["name"] = Path.GetFileNameWithoutExtension(modelPath) + "-uncertainty",
            ["method"] = "ensemble: the flagship network plus K members (own seeds, bootstrap resamples of the flagship's training split); " +
                "mu = weighted mean (weights chosen on validation: flagship share or greedy ensemble selection), sigma = split-conformal scale x (mean absolute deviation of the K+1 outputs from mu + floor + level_weight x |mu - level_center|)",
            ["sigma_meaning"] = string.Create(CultureInfo.InvariantCulture,
                $"calibrated 68 % half-width in {unit}: |true - mu| <= sigma for 68 % of {(tc ? "validation positives (Tc > 0)" : "validation rows")}; " +
                $"the 95 % half-width is {fit.Head.Interval95Factor:0.###} x sigma (split-conformal on {Path.GetFileName(validPath)}, n = {fit.Rows})"),
            ["domain_meaning"] = string.Create(CultureInfo.InvariantCulture,
                $"L1 distance in atom-fraction space to the nearest of {domain.Rows} training compositions, divided by {reference:0.####} " +
                $"(95th percentile of the validation rows' distances): <= 1 typical of held-out data, >> 1 out of domain; max 2 / reference (no element shared)"),
            ["flagship"] = new JsonObject { ["file"] = Path.GetFileName(modelPath), ["sha256"] = FileChecksum.Sha256Hex(modelPath) },
            ["calibration"] = new JsonObject
            {
                ["file"] = Path.GetFileName(validPath), ["sha256"] = FileChecksum.Sha256Hex(validPath), ["rows"] = fit.Rows,
                ["rows_note"] = tc ? "positives (tc_kelvin > 0) of the validation split" : "all rows of the validation split",
                ["flagship_weight"] = fit.FlagshipWeight, ["weight_method"] = fit.WeightMethod,
                ["mean_weights"] = new JsonArray([.. fit.Head.MeanWeights.Select(w => (JsonNode)(double)w)]),
                ["selection_mae"] = double.IsNaN(fit.SelectionMae) ? null : fit.SelectionMae, ["mean_mae"] = fit.MeanMae, ["flagship_mae"] = fit.FlagshipMae,
                ["coverage68"] = fit.Coverage68, ["coverage95"] = fit.Coverage95, ["spearman_abs_error_sigma"] = fit.Spearman,
                ["sigma_scale"] = fit.Head.SigmaScale, ["sigma_floor"] = fit.Head.SigmaFloor, ["interval95_factor"] = fit.Head.Interval95Factor,
                ["level_center"] = fit.Head.LevelCenter, ["level_weight"] = fit.Head.LevelWeight, ["level_term_searched"] = levelTerm, ["selection_searched"] = selection && flagshipWeight is null,
                ["sigma_criterion"] = balanceBins > 0 ? $"narrowest 68 % + 95 % intervals within one standard error of the most even 68 % coverage over {balanceBins} equal-count bins of mu" : "narrowest 68 % + 95 % intervals",
                ["bin_coverage68"] = new JsonArray([.. fit.BinCoverage68!.Select(v => (JsonNode)v)]),
                ["bin_coverage68_note"] = $"68 % coverage of the validation rows in {fit.BinCoverage68!.Count} equal-count bins of mu, lowest mu first",
                ["weight_search"] = new JsonArray([.. fit.WeightSearch.Select(w => (JsonNode)new JsonArray(w.FlagshipWeight, w.Mae))]),
                ["floor_search"] = new JsonArray([.. fit.FloorSearch.Select(f => (JsonNode)new JsonArray(f.Floor, f.Width68, f.Width95))]),
            },
            ["domain"] = new JsonObject
            {
                ["file"] = Path.GetFileName(trainPath), ["sha256"] = FileChecksum.Sha256Hex(trainPath), ["rows"] = domain.Rows,
                ["reference_distance"] = reference,
            },
            ["members"] = new JsonArray([.. memberModels.Select((m, k) =>
                k < reusedCount && reusedCards is not null && k < reusedCards.Count && reusedCards[k] is JsonNode old
                    ? old.DeepClone()
                    : (JsonNode)new JsonObject
                    {
                        ["source"] = k < reusedCount ? $"{Path.GetFileName(reusePath)} member {k}" : Path.GetFileName(memberPaths[k - reusedCount]),
                        ["sha256"] = k < reusedCount ? null : FileChecksum.Sha256Hex(memberPaths[k - reusedCount]),
                        ["parameters"] = m.Graph.ParameterCount,
                        ["card"] = ParseCard(m.CardJson),
                    })]),
            ["created_utc"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        var data = new UncertaintyData(FileChecksum.Sha256Hex(modelPath), memberModels, fit.Head, domain,
            card.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        string path = output ?? UncertaintyFile.SiblingOf(modelPath);
        UncertaintyFile.Write(path, data);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{path}: {memberModels.Count} members; mu weights ({fit.WeightMethod}) flagship {fit.FlagshipWeight:0.##}, members " +
            $"{string.Join(" ", fit.Head.MeanWeights.Skip(1).Select(w => w.ToString("0.###", CultureInfo.InvariantCulture)))}; " +
            $"validation ({fit.Rows} rows): MAE mu {fit.MeanMae:0.####} vs flagship {fit.FlagshipMae:0.####} {unit}, " +
            $"coverage 68 % {fit.Coverage68:0.###}, 95 % {fit.Coverage95:0.###}, Spearman(|err|, sigma) {fit.Spearman:0.###}; " +
            $"sigma = {fit.Head.SigmaScale:0.####} x (spread + {fit.Head.SigmaFloor:0.####} + {fit.Head.LevelWeight:0.####} |mu - {fit.Head.LevelCenter:0.###}|), " +
            $"95 % = {fit.Head.Interval95Factor:0.###} sigma; 68 % coverage by mu bin (low to high) {string.Join(" ", fit.BinCoverage68!.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)))}; " +
            $"domain: {domain.Rows} training compositions, reference distance {reference:0.####}"));
        return ExitCodes.Ok;
    }

    static WeightModel LoadMember(string path, WeightModel flagship)
    {
        if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) return WeightFile.Read(path);
        string cardPath = Path.ChangeExtension(path, ".card.json");
        string? card = File.Exists(cardPath) ? File.ReadAllText(cardPath) : null;
        return ModelConverter.Convert(path, new ConvertOptions(Kind: null, Float16: false, CardJson: card, OutputName: flagship.OutputName, OutputUnit: flagship.OutputUnit));
    }

    static JsonNode? ParseCard(string json)
    {
        try
        {
            var node = JsonNode.Parse(json);
            if (node is JsonObject o && o["training"] is JsonObject t) t.Remove("history"); // kept in the member's own card
            return node;
        }
        catch (JsonException) { return null; }
    }

    static DomainData BuildDomain(IReadOnlyList<Composition> rows)
    {
        var offsets = new List<int>(rows.Count + 1) { 0 };
        var elements = new List<byte>();
        var fractions = new List<float>();
        foreach (var c in rows)
        {
            var v = Fractions(c);
            for (int i = 0; i < v.Length; i++)
                if (v[i] > 0) { elements.Add((byte)i); fractions.Add((float)v[i]); }
            offsets.Add(elements.Count);
        }
        return new DomainData([.. offsets], [.. elements], [.. fractions], 1);
    }

    static double[] Fractions(Composition c)
    {
        var v = new double[118];
        c.WriteFractions(v);
        return v;
    }

    static (List<Composition> Compositions, List<double> Targets) ReadRows(string path, string? targetColumn)
    {
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        int fi = header.Require("formula");
        int ti = targetColumn is null ? -1 : header.Require(targetColumn);
        var compositions = new List<Composition>();
        var targets = new List<double>();
        foreach (var record in reader.ReadAll())
        {
            if (record.Fields is [""]) continue;
            if (record.Fields.Length < header.Names.Count)
                throw new UserInputException($"{path} line {record.Line}: {record.Fields.Length} fields; the header has {header.Names.Count}");
            if (!Composition.TryParse(record.Fields[fi], out var c, out var e))
                throw new UserInputException($"{path} line {record.Line}, column \"formula\": {e.Message}");
            compositions.Add(c);
            if (ti >= 0)
            {
                if (!double.TryParse(record.Fields[ti], NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || !double.IsFinite(t))
                    throw new UserInputException($"{path} line {record.Line}, column \"{targetColumn}\": '{record.Fields[ti]}' is not a number");
                targets.Add(t);
            }
        }
        if (compositions.Count == 0) throw new UserInputException($"{path}: no rows below the header");
        return (compositions, targets);
    }
}
