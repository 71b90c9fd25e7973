using Kiago.Nets;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;

namespace Kiago.Tests.Nets.Uncertainty;

/// <summary>.kgu round trip, the loader's refusals (checksum of the flagship, corruption, missing given path), the old-.kgw notice, domain scores.</summary>
public sealed class UncertaintyFileTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"kiago-kgu-{Environment.ProcessId}-{Guid.NewGuid():N}");
    readonly CpuBackend backend = new(threads: 1);

    public UncertaintyFileTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        backend.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    string WriteFlagship(int seed = 1)
    {
        string path = Path.Combine(dir, "ef.kgw");
        WeightFile.Write(path, RandomMembers.Mlp(ModelKind.ElemNet, seed));
        return path;
    }

    [Fact]
    public void Round_trip_keeps_members_head_domain_and_card()
    {
        string kgw = WriteFlagship();
        var data = RandomMembers.Data(ModelKind.ElemNet, FileChecksum.Sha256Hex(kgw));
        UncertaintyFile.Write(UncertaintyFile.SiblingOf(kgw), data);
        var back = UncertaintyFile.Read(UncertaintyFile.SiblingOf(kgw), FileChecksum.Sha256Hex(kgw));
        Assert.Equal(data.BaseSha256, back.BaseSha256);
        Assert.Equal(data.Members.Count, back.Members.Count);
        Assert.Equal(data.Head.MeanWeights, back.Head.MeanWeights);
        Assert.Equal((data.Head.SigmaScale, data.Head.SigmaFloor, data.Head.Interval95Factor), (back.Head.SigmaScale, back.Head.SigmaFloor, back.Head.Interval95Factor));
        Assert.Equal((data.Head.LevelCenter, data.Head.LevelWeight), (back.Head.LevelCenter, back.Head.LevelWeight));
        Assert.Equal(data.Domain.Offsets, back.Domain.Offsets);
        Assert.Equal(data.Domain.Elements, back.Domain.Elements);
        Assert.Equal(data.Domain.Fractions, back.Domain.Fractions);
        Assert.Equal(data.CardJson, back.CardJson);
        for (int k = 0; k < data.Members.Count; k++)
            Assert.Equal(data.Members[k].Graph.Tensors["w0"].Data, back.Members[k].Graph.Tensors["w0"].Data);

        using var model = UncertainModel.Load(kgw, backend);
        Assert.True(model.HasUncertainty);
        Assert.Equal(3, model.MemberCount);
        Assert.Equal("test: calibrated 68 % half-width", model.SigmaMeaning);
        Assert.Equal(2.2, model.Interval95Factor, 5);
    }

    [Fact]
    public void An_old_kgw_alone_loads_with_one_notice()
    {
        string kgw = WriteFlagship();
        var notices = new List<string>();
        using var model = UncertainModel.Load(kgw, backend, notices.Add);
        Assert.False(model.HasUncertainty);
        Assert.Equal("", model.SigmaMeaning);
        var line = Assert.Single(notices);
        Assert.Contains("ef.kgu", line);
        Assert.Contains("no uncertainty data", line);
    }

    [Fact]
    public void A_kgu_calibrated_for_another_flagship_is_refused_with_file_and_reason()
    {
        string kgw = WriteFlagship(1);
        string kgu = UncertaintyFile.SiblingOf(kgw);
        UncertaintyFile.Write(kgu, RandomMembers.Data(ModelKind.ElemNet, FileChecksum.Sha256Hex(kgw)));
        WeightFile.Write(kgw, RandomMembers.Mlp(ModelKind.ElemNet, 2)); // the flagship is replaced
        var e = Assert.Throws<WeightFileException>(() => UncertainModel.Load(kgw, backend));
        Assert.Equal(kgu, e.File);
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Contains("recalibrate", e.Message);
    }

    [Fact]
    public void A_corrupted_or_missing_kgu_is_refused()
    {
        string kgw = WriteFlagship();
        string kgu = UncertaintyFile.SiblingOf(kgw);
        UncertaintyFile.Write(kgu, RandomMembers.Data(ModelKind.ElemNet, FileChecksum.Sha256Hex(kgw)));
        var bytes = File.ReadAllBytes(kgu);
        bytes[bytes.Length / 2] ^= 0x40;
        File.WriteAllBytes(kgu, bytes);
        var e = Assert.Throws<WeightFileException>(() => UncertainModel.Load(kgw, backend));
        Assert.Equal(kgu, e.File);
        Assert.Contains("checksum mismatch: the payload is corrupted", e.Message);

        string missing = Path.Combine(dir, "nope.kgu");
        var m = Assert.Throws<WeightFileException>(() => UncertainModel.Load(kgw, backend, uncertaintyPath: missing));
        Assert.Contains("file not found", m.Message);

        File.WriteAllBytes(kgu, File.ReadAllBytes(kgw)); // a .kgw where the .kgu should be
        var f = Assert.Throws<WeightFileException>(() => UncertainModel.Load(kgw, backend));
        Assert.Contains("not a Kiago uncertainty file", f.Message);
    }

    [Fact]
    public void Members_predicting_another_quantity_are_refused()
    {
        string kgw = WriteFlagship();
        var data = RandomMembers.Data(ModelKind.TcResNet, FileChecksum.Sha256Hex(kgw));
        UncertaintyFile.Write(UncertaintyFile.SiblingOf(kgw), data);
        var e = Assert.Throws<WeightFileException>(() => UncertainModel.Load(kgw, backend));
        Assert.Contains("member 0 predicts tc in K; the flagship predicts ef in eV/atom", e.Message);
    }

    [Fact]
    public void Domain_score_is_zero_on_training_compositions_and_largest_for_unseen_elements()
    {
        string kgw = WriteFlagship();
        UncertaintyFile.Write(UncertaintyFile.SiblingOf(kgw), RandomMembers.Data(ModelKind.ElemNet, FileChecksum.Sha256Hex(kgw)));
        using var model = UncertainModel.Load(kgw, backend);
        var scores = model.DomainScores([.. new[] { "NaCl", "Og", "Na1Cl1.1", "KBr" }.Select(Composition.Parse)]);
        Assert.Equal(0, scores[0], 6);
        Assert.Equal(2 / 0.25, scores[1], 4);                 // nothing shared: L1 = 2
        // Na1Cl1.1 vs NaCl: fractions 0.476/0.524 vs 0.5/0.5 → L1 = 0.0476
        Assert.Equal(2 * (0.5 - 1 / 2.1) / 0.25, scores[2], 4);
        Assert.Equal(2 * 0.5 / 0.25, scores[3], 4);           // KBr shares K (0.5) with KCl: L1 = 1
    }
}

/// <summary>Split-conformal calibration on synthetic ensembles whose spread is an honest error scale.</summary>
public sealed class CalibrationTests
{
    static (List<double[]> Outputs, List<double> Target) Synthetic(int n, int seed)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var outputs = new List<double[]>();
        var target = new List<double>();
        for (int i = 0; i < n; i++)
        {
            double truth = 10 * rng.NextDouble(), scale = 0.2 + 3 * rng.NextDouble();
            // five models: truth + shared error + own error, all with this row's scale
            double shared = scale * Normal();
            outputs.Add([.. Enumerable.Range(0, 5).Select(_ => truth + shared + scale * Normal())]);
            target.Add(truth);
        }
        return (outputs, target);
    }

    [Fact]
    public void Intervals_fitted_on_one_half_cover_the_other_at_nominal_rates()
    {
        var (fitOut, fitTarget) = Synthetic(4000, 1);
        var (testOut, testTarget) = Synthetic(4000, 2);
        var result = Calibration.Fit(fitOut, fitTarget);
        var head = result.Head;
        var mu = testOut.Select(o => o.Select((v, j) => head.MeanWeights[j] * v).Sum()).ToList();
        var sigma = testOut.Select((o, i) => head.SigmaScale * (o.Average(v => Math.Abs(v - mu[i])) + head.SigmaFloor
            + head.LevelWeight * Math.Abs(mu[i] - head.LevelCenter))).Select(v => (double)v).ToList();
        Assert.InRange(UncertaintyMetrics.Coverage(mu, sigma, testTarget), 0.65, 0.71);
        Assert.InRange(UncertaintyMetrics.Coverage(mu, sigma, testTarget, head.Interval95Factor), 0.935, 0.965);
        var err = testTarget.Select((t, i) => Math.Abs(t - mu[i])).ToList();
        Assert.True(UncertaintyMetrics.Spearman(err, sigma) > 0.3, $"Spearman {UncertaintyMetrics.Spearman(err, sigma)}");
        Assert.Equal(5, head.MeanWeights.Length);
        Assert.Equal(1, head.MeanWeights.Sum(), 4);
    }

    /// <summary>Flagship error 1, two same-family members error 3, one other-family member error 0.5 (independent errors).</summary>
    static (List<double[]> Outputs, List<double> Target) Heterogeneous(int n, int seed)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var outputs = new List<double[]>();
        var target = new List<double>();
        double[] scales = [1, 3, 3, 0.5];
        for (int i = 0; i < n; i++)
        {
            double truth = 10 * rng.NextDouble();
            outputs.Add([.. scales.Select(s => truth + s * Normal())]);
            target.Add(truth);
        }
        return (outputs, target);
    }

    static double MeanMae(IReadOnlyList<double[]> outputs, IReadOnlyList<double> target, float[] weights) =>
        outputs.Select((o, i) => Math.Abs(o.Select((v, j) => weights[j] * v).Sum() - target[i])).Average();

    [Fact]
    public void Greedy_selection_weights_the_better_member_family_and_wins_only_on_validation_mae()
    {
        var (fitOut, fitTarget) = Heterogeneous(3000, 3);
        var (testOut, testTarget) = Heterogeneous(3000, 4);
        var share = Calibration.Fit(fitOut, fitTarget, selection: false);
        var selected = Calibration.Fit(fitOut, fitTarget);
        Assert.Equal(Calibration.FlagshipShare, share.WeightMethod);
        Assert.Equal(Calibration.GreedySelection, selected.WeightMethod);
        var w = selected.Head.MeanWeights;
        Assert.Equal(1, w.Sum(), 5);
        Assert.True(w[3] > w[0] && w[0] > w[1], $"weights {string.Join(" ", w)}");
        Assert.Equal(share.FlagshipWeight, share.Head.MeanWeights[0], 6);
        Assert.True(selected.MeanMae < share.MeanMae, $"{selected.MeanMae} vs {share.MeanMae}");
        Assert.Equal(selected.SelectionMae, selected.MeanMae, 12);
        // not an artefact of fitting: it is better on fresh rows too
        Assert.True(MeanMae(testOut, testTarget, w) < MeanMae(testOut, testTarget, share.Head.MeanWeights));

        // same-family members (Synthetic): equal shares are hard to beat; whichever wins, μ's MAE is the lower of the two
        var (sOut, sTarget) = Synthetic(2000, 5);
        var plain = Calibration.Fit(sOut, sTarget, selection: false);
        var either = Calibration.Fit(sOut, sTarget);
        Assert.True(either.MeanMae <= plain.MeanMae);
        Assert.Equal(Math.Min(plain.MeanMae, either.SelectionMae), either.MeanMae, 12);
        // a fixed flagship weight is kept as given
        var fixedW = Calibration.Fit(fitOut, fitTarget, flagshipWeight: 1);
        Assert.Equal(Calibration.FlagshipShare, fixedW.WeightMethod);
        Assert.Equal(1f, fixedW.Head.MeanWeights[0]);
    }

    /// <summary>
    /// Errors that grow with the value (sd 0.5 + 0.3·truth) and are heavy-tailed at low values (a few large misses, as
    /// Tc's "no superconductivity predicted, but it is one"), members whose spread is the same everywhere.
    /// </summary>
    static (List<double[]> Outputs, List<double> Target) Heteroscedastic(int n, int seed)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var outputs = new List<double[]>();
        var target = new List<double>();
        for (int i = 0; i < n; i++)
        {
            double truth = 100 * rng.NextDouble();
            double error = (0.5 + 0.3 * truth) * Normal() + (truth < 30 && rng.NextDouble() < 0.25 ? 60 * rng.NextDouble() : 0);
            double flagship = truth + error;
            outputs.Add([flagship, flagship + 2 * Normal(), flagship + 2 * Normal()]);
            target.Add(truth);
        }
        return (outputs, target);
    }

    static double[] FreshBinCoverage(UncertaintyHead head, List<double[]> outputs, List<double> target, int bins)
    {
        var mu = outputs.Select(o => o.Select((v, j) => head.MeanWeights[j] * v).Sum()).ToArray();
        var sigma = outputs.Select((o, i) => head.SigmaScale * (o.Average(v => Math.Abs(v - mu[i])) + head.SigmaFloor
            + head.LevelWeight * Math.Abs(mu[i] - head.LevelCenter))).ToArray();
        var order = Enumerable.Range(0, mu.Length).OrderBy(i => mu[i]).ToArray();
        return [.. Enumerable.Range(0, bins).Select(b => order.Skip(b * mu.Length / bins).Take(mu.Length / bins)
            .Average(i => Math.Abs(target[i] - mu[i]) <= sigma[i] ? 1.0 : 0.0))];
    }

    [Fact]
    public void Balance_bins_even_out_the_68_percent_coverage_across_mu()
    {
        var (fitOut, fitTarget) = Heteroscedastic(3000, 6);
        var (testOut, testTarget) = Heteroscedastic(3000, 7);
        var narrow = Calibration.Fit(fitOut, fitTarget);
        var even = Calibration.Fit(fitOut, fitTarget, balanceBins: 3);
        Assert.Equal(0, narrow.BalanceBins);
        Assert.Equal(3, even.BalanceBins);
        Assert.Equal(3, even.BinCoverage68!.Count);
        Assert.Equal(3, narrow.BinCoverage68!.Count); // reported for the card even when not balanced
        double Worst(IEnumerable<double> c) => c.Max(v => Math.Abs(v - 0.68));
        var freshNarrow = FreshBinCoverage(narrow.Head, testOut, testTarget, 3);
        var freshEven = FreshBinCoverage(even.Head, testOut, testTarget, 3);
        Assert.True(Worst(even.BinCoverage68) < Worst(narrow.BinCoverage68), "balancing did not even out the validation bins");
        // on fresh rows the worst third is at least 2 points closer to 68 % (0.078 vs 0.116 with these seeds)
        Assert.True(Worst(freshEven) < Worst(freshNarrow) - 0.02, $"fresh bins {string.Join(" ", freshEven)} vs {string.Join(" ", freshNarrow)}");
        Assert.InRange(even.Coverage68, 0.67, 0.69); // still calibrated overall
        Assert.Throws<ArgumentException>(() => Calibration.Fit(fitOut, fitTarget, balanceBins: 1));
    }

    [Fact]
    public void Spearman_handles_ties_and_perfect_orders()
    {
        Assert.Equal(1, UncertaintyMetrics.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 10);
        Assert.Equal(-1, UncertaintyMetrics.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 10);
        Assert.Equal(0.9486832980505138, UncertaintyMetrics.Spearman([1, 2, 2, 3], [1, 2, 3, 4]), 10);
        Assert.Equal(3, UncertaintyMetrics.ConformalQuantile([5, 1, 3, 2, 4], 0.5)); // ⌈6·0.5⌉ = 3rd smallest
    }
}

/// <summary>`kiago calibrate`, `predict` and `evaluate-model` with a .kgu on random-weight members (in process).</summary>
public sealed class UncertaintyCliTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("kiago-kgu-cli-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Output, string Error) Run(params string[] args)
    {
        var root = new System.CommandLine.RootCommand("test");
        foreach (var c in Kiago.Cli.CommandCatalog.All()) root.Subcommands.Add(c);
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Kiago.Cli.CliRunner.Run(root, args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public void Calibrate_then_predict_and_evaluate_report_sigma_domain_and_coverage()
    {
        string kgw = Path.Combine(dir, "ef.kgw");
        WeightFile.Write(kgw, RandomMembers.Mlp(ModelKind.ElemNet, 1));
        var members = Enumerable.Range(0, 3).Select(k =>
        {
            string path = Path.Combine(dir, $"m{k}.kgw");
            WeightFile.Write(path, RandomMembers.Mlp(ModelKind.ElemNet, 10 + k, outputScale: 1.2f));
            return path;
        }).ToArray();
        // "validation" targets: the flagship's own output plus noise, so the calibration has something to fit
        var formulas = new List<string>();
        var rng = new Random(3);
        string[] a = ["Li", "Na", "K", "Mg", "Ca", "Al", "Fe", "Cu", "Zn", "Ti"], b = ["O", "F", "Cl", "S", "N", "B", "C", "P", "Se", "Br"];
        for (int i = 0; i < 60; i++) formulas.Add($"{a[rng.Next(a.Length)]}{1 + rng.Next(3)}{b[rng.Next(b.Length)]}{1 + rng.Next(4)}");
        using (var backend = new CpuBackend(1))
        using (var net = new Kiago.Nets.GraphModel(WeightFile.Read(kgw), backend))
        {
            var p = Kiago.Design.Experiments.ModelPredictions.Predict(net, [.. formulas.Select(Composition.Parse)]);
            File.WriteAllLines(Path.Combine(dir, "valid.csv"), ["formula,formation_energy_ev_per_atom",
                .. formulas.Select((f, i) => $"{f},{(p[i] + 0.3 * (rng.NextDouble() - 0.5)).ToString(System.Globalization.CultureInfo.InvariantCulture)}")]);
        }
        // training compositions near the validation ones (same element pairs, other amounts), so Og is far by comparison
        File.WriteAllLines(Path.Combine(dir, "train.csv"), ["formula", "NaCl", .. a.SelectMany(x => b.Select(y => $"{x}2{y}3"))]);

        var (code, output, error) = Run(["calibrate", "--model", kgw, "--members", .. members, "--valid", Path.Combine(dir, "valid.csv"),
            "--train-compositions", Path.Combine(dir, "train.csv")]);
        Assert.True(code == 0, error);
        Assert.Contains("3 members", output);
        Assert.True(File.Exists(Path.Combine(dir, "ef.kgu")));

        (code, output, error) = Run("predict", "NaCl", "Og", "--no-tc", "--ef-model", kgw);
        Assert.True(code == 0, error);
        var lines = output.Trim().Split('\n');
        Assert.Equal("formula,ef_eV_per_atom,ef_sigma_eV_per_atom,ef_domain,ef_ignored_elements", lines[0].Trim());
        var nacl = lines[1].Trim().Split(',');
        var og = lines[2].Trim().Split(',');
        Assert.True(float.Parse(nacl[2], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(0, float.Parse(nacl[3], System.Globalization.CultureInfo.InvariantCulture)); // NaCl is a training composition
        Assert.True(float.Parse(og[3], System.Globalization.CultureInfo.InvariantCulture) > 1, $"Og domain {og[3]}");
        Assert.Equal("Og", og[4]);

        (code, output, error) = Run("evaluate-model", "--model", kgw, "--data", Path.Combine(dir, "valid.csv"), "--device", "cpu");
        Assert.True(code == 0, error);
        Assert.Contains("ensemble mu (flagship + 3 members, ef.kgu)", output);
        Assert.Matches(@"coverage of mu ± sigma = 0\.\d+ \(nominal 0\.68\)", output);
        Assert.Contains("Spearman(|error|, sigma) = ", output);

        // a member added to the shipped ensemble: the old members come first, unchanged, with their provenance
        string extra = Path.Combine(dir, "extra.kgw");
        WeightFile.Write(extra, RandomMembers.Mlp(ModelKind.Fractions, 20, outputScale: 0.8f, output: ("ef", "eV/atom")));
        string grown = Path.Combine(dir, "grown.kgu");
        (code, output, error) = Run(["calibrate", "--model", kgw, "--reuse-members", Path.Combine(dir, "ef.kgu"), "--members", extra,
            "--valid", Path.Combine(dir, "valid.csv"), "--train-compositions", Path.Combine(dir, "train.csv"), "-o", grown]);
        Assert.True(code == 0, error);
        Assert.Contains("4 members", output);
        var before = UncertaintyFile.Read(Path.Combine(dir, "ef.kgu"));
        var after = UncertaintyFile.Read(grown);
        Assert.Equal(4, after.Members.Count);
        for (int k = 0; k < 3; k++)
            Assert.Equal(WeightFile.Serialize(before.Members[k]), WeightFile.Serialize(after.Members[k]));
        Assert.Equal(ModelKind.Fractions, after.Members[3].Kind);
        var cards = System.Text.Json.Nodes.JsonNode.Parse(after.CardJson)!["members"]!.AsArray();
        Assert.Equal(System.Text.Json.Nodes.JsonNode.Parse(before.CardJson)!["members"]![0]!.ToJsonString(), cards[0]!.ToJsonString());
        Assert.Equal("extra.kgw", (string?)cards[3]!["source"]);
        (code, _, error) = Run("calibrate", "--model", kgw, "--reuse-members", Path.Combine(dir, "missing.kgu"),
            "--valid", Path.Combine(dir, "valid.csv"), "--train-compositions", Path.Combine(dir, "train.csv"));
        Assert.Equal(2, code);
        Assert.Contains("--reuse-members", error);
        Assert.Contains("missing.kgu: file not found", error);
        // balance bins: written to the card when used, refused when meaningless
        (code, _, error) = Run("calibrate", "--model", kgw, "--reuse-members", Path.Combine(dir, "ef.kgu"), "--balance-bins", "3",
            "--valid", Path.Combine(dir, "valid.csv"), "--train-compositions", Path.Combine(dir, "train.csv"), "-o", Path.Combine(dir, "balanced.kgu"));
        Assert.True(code == 0, error);
        var balanced = System.Text.Json.Nodes.JsonNode.Parse(UncertaintyFile.Read(Path.Combine(dir, "balanced.kgu"), FileChecksum.Sha256Hex(kgw)).CardJson)!["calibration"]!;
        Assert.Contains("3 equal-count bins of mu", (string?)balanced["sigma_criterion"]);
        Assert.Equal(3, balanced["bin_coverage68"]!.AsArray().Count);
        (code, _, error) = Run("calibrate", "--model", kgw, "--reuse-members", Path.Combine(dir, "ef.kgu"), "--balance-bins", "1",
            "--valid", Path.Combine(dir, "valid.csv"), "--train-compositions", Path.Combine(dir, "train.csv"), "-o", Path.Combine(dir, "bad.kgu"));
        Assert.Equal(2, code);
        Assert.Contains("--balance-bins 1: 0 (off) or at least 2", error);

        // the flagship replaced: the .kgu is refused, exit 2, file and reason named
        WeightFile.Write(kgw, RandomMembers.Mlp(ModelKind.ElemNet, 99));
        (code, _, error) = Run("predict", "NaCl", "--no-tc", "--ef-model", kgw);
        Assert.Equal(2, code);
        Assert.Contains("ef.kgu: checksum mismatch", error);
    }
}
