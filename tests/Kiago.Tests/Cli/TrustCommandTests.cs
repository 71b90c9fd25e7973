using Kiago.Chemistry;
using Kiago.Cli;
using Kiago.Design.Novelty;
using Kiago.Nets;
using Kiago.Nets.Graph;
using Kiago.Nets.Uncertainty;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets.Uncertainty;

namespace Kiago.Tests.Cli;

/// <summary>The issue-12 options through the real command line: refusals before compute, --known, the practical preset.</summary>
public sealed class TrustCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    string[] Tiny(params string[] extra) => TinyN(16, extra);

    static string[] TinyN(int candidates, params string[] extra) =>
        ["--candidates", candidates.ToString(System.Globalization.CultureInfo.InvariantCulture), "--steps", "6", "--tc-model", "random", "--ef-model", "random", "--device", "cpu", "--quiet", .. extra];

    [Theory]
    [InlineData("--max O=0.3 contradicts --fix O=0.5", "--fix", "O=0.5", "--max", "O=0.3")]
    [InlineData("--max O=0.2 contradicts --min O=0.4", "--min", "O=0.4", "--max", "O=0.2")]
    [InlineData("--fix O: the element is also denied (--deny)", "--fix", "O=0.5", "--deny", "O")]
    [InlineData("--min O: the element is also denied (--deny)", "--min", "O=0.5", "--deny", "O")]
    [InlineData("O is given both --fix and --min", "--fix", "O=0.5", "--min", "O=0.2")]
    [InlineData("--fix: the fixed fractions sum to 1.1", "--fix", "O=0.6", "--fix", "Cu=0.5")]
    [InlineData("--min: the fixed fractions sum to 1.2", "--min", "O=0.6", "--min", "Cu=0.6")]
    [InlineData("--fix: the fixed fractions sum to 1.05", "--fix", "O=0.6", "--min", "Cu=0.45")]
    [InlineData("--fix O=1.5: the fraction must lie in (0, 1)", "--fix", "O=1.5")]
    [InlineData("--max Cu=NaN: the fraction must lie in (0, 1)", "--max", "Cu=NaN")]
    [InlineData("--max: the elements that can appear may hold at most 0.6", "--allow", "Y,Ba,Cu,O", "--max", "Y=0.1,Ba=0.1,Cu=0.2,O=0.2", "--max-elements", "4")]
    [InlineData("--max: 'Cu' is not El=fraction", "--max", "Cu")]
    [InlineData("--preset must be published or practical, got 'nice'", "--preset", "nice")]
    [InlineData("--ox-states must be smact14, pymatgen-common or icsd, got 'x'", "--ox-states", "x")]
    [InlineData("--kappa must be a finite number ≥ 0 (got -1)", "--kappa", "-1")]
    [InlineData("--kappa must be a finite number ≥ 0 (got NaN)", "--kappa", "NaN")]
    [InlineData("--kappa must be a finite number ≥ 0 (got ", "--kappa", "Infinity")]
    [InlineData("neither --tc-model random nor --ef-model random has uncertainty data", "--kappa", "1")]
    public void Contradictory_or_impossible_options_are_refused_before_compute(string message, params string[] extra)
    {
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--out", cli.PathOf("never"), .. Tiny(extra)]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(cli.PathOf("never")));
    }

    [Fact]
    public void A_known_file_names_its_bad_rows_skips_them_with_a_count_and_drives_the_known_column()
    {
        var known = cli.File("known.csv", "formula,tc_kelvin\nYBa2Cu3O7,92\nXq2O,5\nMgB2,lots\nLa2CuO4,\n,3\nBaCuO2,-1\n");
        string dir = cli.PathOf("run");
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--out", dir, "--known", known, .. Tiny()]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains($"{known}: line 3, column \"formula\"", err);
        Assert.Contains($"{known}: line 4, column \"tc_kelvin\"", err);
        Assert.Contains($"{known}: line 6, column \"formula\"", err);
        Assert.Contains($"{known}: line 7, column \"tc_kelvin\"", err);
        Assert.Contains("4 bad rows skipped, 2 used", err);
        var rows = Csv(Path.Combine(dir, "candidates.csv"));
        Assert.NotEmpty(rows);
        var list = new Dictionary<string, string> { ["O7Cu3Y1Ba2"] = "YBa2Cu3O7", ["O4Cu1La2"] = "La2CuO4" };
        foreach (var r in rows.Where(r => r["formula"].Length > 0))
        {
            var key = KnownCompositions.KeyOf(Composition.Parse(r["formula"]));
            Assert.Equal(list.ContainsKey(key) ? "true" : "false", r["known"]);
            if (r["nearest_known"] == "") Assert.Equal("2", r["nearest_known_distance"]); // no element in common with the list
            else Assert.Contains(r["nearest_known"], list.Values);
        }
    }

    [Fact]
    public void A_known_file_without_a_usable_row_is_refused()
    {
        var known = cli.File("bad.csv", "formula\nQq\n");
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--out", cli.PathOf("r"), "--known", known, .. Tiny()]);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("has no usable row", err);
    }

    [Fact]
    public void The_practical_preset_writes_reduced_formulas_of_at_most_30_atoms_without_radioactive_elements_in_every_row()
    {
        string dir = cli.PathOf("practical");
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--out", dir, "--preset", "practical", .. TinyN(48)]);
        Assert.True(code == ExitCodes.Ok, err);
        var rows = Csv(Path.Combine(dir, "candidates.csv")).Where(r => r["formula"].Length > 0).ToList();
        Assert.NotEmpty(rows);
        var radioactive = new HashSet<string>(Kiago.Design.Constraints.DesignConstraints.Radioactive);
        foreach (var r in rows)
        {
            var f = Composition.Parse(r["formula"]);
            Assert.True(f.TotalAtoms <= 30, r["formula"]);
            Assert.Equal(f.TotalAtoms.ToString(System.Globalization.CultureInfo.InvariantCulture), r["formula_atoms"]);
            Assert.Equal(f, f.Reduce());
            Assert.DoesNotContain(f.Elements, e => radioactive.Contains(e.Symbol));
            Assert.True(r["known"] is "true" or "false");
            Assert.NotEqual("", r["nearest_known"]);
            if (f.Count == 1) Assert.True(r["all_pass"] == "false" && r["reasons"].Contains("alone is an element"), $"{r["formula"]}: an element alone must fail");
        }
        var manifest = File.ReadAllText(Path.Combine(dir, "manifest.json"));
        Assert.Contains("\"ox_states\": \"pymatgen-common\"", manifest);
        Assert.Contains("kiago (pymatgen-common", manifest);
    }

    [Theory]
    [InlineData("25", "--mode", "paper")]
    [InlineData("12", "--max-atoms", "12")]
    public void Paper_mode_and_an_explicit_max_atoms_bound_the_printed_formula_in_every_row(string bound, params string[] extra)
    {
        string dir = cli.PathOf("bound" + bound);
        var (code, _, err) = cli.Run(["optimise", "--base", "YBa2Cu3O7", "--out", dir, .. TinyN(64, extra)]);
        Assert.True(code == ExitCodes.Ok, err);
        var rows = Csv(Path.Combine(dir, "candidates.csv")).Where(r => r["formula"].Length > 0).ToList();
        Assert.NotEmpty(rows);
        foreach (var r in rows)
            Assert.True(Composition.Parse(r["formula"]).TotalAtoms <= int.Parse(bound), $"{r["formula"]} has more than {bound} atoms");
    }

    [Fact]
    public void Baseline_ces_fills_the_novelty_columns_on_every_row_and_novel_only_drops_every_known_row()
    {
        var known = cli.File("ces-known.csv", "formula,tc_kelvin\nLaFeAsO,26\nLaCoAsO,\n");
        string all = cli.PathOf("ces-all"), novel = cli.PathOf("ces-novel");
        var (code, _, err) = cli.Run(["baseline", "ces", "--base", "LaFeAsO", "--samples", "64", "--known", known, "--out", all, "--device", "cpu"]);
        Assert.True(code == ExitCodes.Ok, err);
        var rows = Csv(Path.Combine(all, "candidates.csv"));
        Assert.Equal(64, rows.Count);
        var list = KnownCompositions.FromEntries([("LaFeAsO", Composition.Parse("LaFeAsO"), 26), ("LaCoAsO", Composition.Parse("LaCoAsO"), double.NaN)], "t");
        var search = new NoveltySearch(list);
        foreach (var r in rows)
        {
            var v = search.Query(Composition.Parse(r["formula"]));
            Assert.Equal(v.Known ? "true" : "false", r["known"]);
            Assert.Equal(v.NearestFormula, r["nearest_known"]);
            Assert.Equal((float)v.Distance, float.Parse(r["nearest_known_distance"], System.Globalization.CultureInfo.InvariantCulture), 5);
        }
        (code, _, err) = cli.Run(["baseline", "ces", "--base", "LaFeAsO", "--samples", "64", "--known", known, "--novel-only", "--out", novel, "--device", "cpu"]);
        Assert.True(code == ExitCodes.Ok, err);
        var kept = Csv(Path.Combine(novel, "candidates.csv"));
        Assert.All(kept, r => Assert.Equal("false", r["known"]));
        Assert.Equal(rows.Count(r => r["known"] == "false"), kept.Count);
    }

    [Fact]
    public void Baseline_ces_fills_sigma_and_domain_from_the_kgu_on_every_row_and_records_it_in_the_manifest()
    {
        string tc = cli.PathOf("tc.kgw"), ef = cli.PathOf("ef.kgw");
        WeightFile.Write(tc, RandomMembers.Mlp(ModelKind.TcResNet, 11, outputScale: 30f, outputBias: 40f));
        WeightFile.Write(ef, RandomMembers.Mlp(ModelKind.ElemNet, 12));
        UncertaintyFile.Write(UncertaintyFile.SiblingOf(tc), RandomMembers.Data(ModelKind.TcResNet, FileChecksum.Sha256Hex(tc), seed: 310));
        string dir = cli.PathOf("ces-sigma");
        var (code, _, err) = cli.Run(["baseline", "ces", "--base", "LaFeAsO", "--samples", "48", "--tc-model", tc, "--ef-model", ef, "--out", dir, "--device", "cpu"]);
        Assert.True(code == ExitCodes.Ok, err);
        Assert.Contains("ef.kgu", err); // Ef has no .kgu: one note, its columns stay empty

        using var backend = new Kiago.Kernels.Cpu.CpuBackend(threads: 2);
        using var model = UncertainModel.Load(tc, backend);
        var rows = Csv(Path.Combine(dir, "candidates.csv"));
        Assert.Equal(48, rows.Count);
        var compositions = rows.Select(r => Composition.Parse(r["formula"])).ToArray();
        var sigma = Kiago.Design.Experiments.ModelPredictions.PredictWithSigma(model, compositions).Sigma;
        var domain = model.DomainScores(compositions);
        var flagship = Kiago.Design.Experiments.ModelPredictions.Predict(model.Flagship, compositions);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.True(sigma[i] > 0, $"row {i}: σ {sigma[i]}");
            Assert.Equal(sigma[i], double.Parse(rows[i]["tc_sigma_K"], inv), 3);
            Assert.Equal(domain[i], double.Parse(rows[i]["tc_domain"], inv), 3);
            Assert.Equal(flagship[i], double.Parse(rows[i]["tc_rounded"], inv), 3); // μ column stays the flagship's
            Assert.Equal("", rows[i]["ef_sigma_eV_per_atom"]);
            Assert.Equal("", rows[i]["ef_domain"]);
        }
        Assert.Contains("tc-model-uncertainty", File.ReadAllText(Path.Combine(dir, "manifest.json")));
    }

    internal static List<Dictionary<string, string>> Csv(string path)
    {
        using var reader = Kiago.Cli.IO.CsvReader.Open(path);
        var header = Kiago.Cli.IO.CsvHeader.Read(reader, path);
        return reader.ReadAll().Select(rec => header.Names.Select((n, i) => (n, v: i < rec.Fields.Length ? rec.Fields[i] : ""))
            .ToDictionary(p => p.n, p => p.v)).ToList();
    }
}
