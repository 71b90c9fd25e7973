using System.Globalization;
using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Cli;
using Kiago.Cli.Design;
using Kiago.Cli.Hull;
using Kiago.Design.Hull;
using Kiago.Design.Experiments;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Eval;

/// <summary>`kiago optimise --hull-reference`: the e_above_hull column equals PhaseDiagram / `kiago hull` on the same formulas.</summary>
public sealed class HullColumnTests : IDisposable
{
    const string References = "formula,note\nFe2O3,a\nFeO,b\nFe3O4,c\nNaCl,outside\nNa2O,d\nNaFeO2,e\nO2,element\n\nFe1O1,repeat\n";
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    string EfModel()
    {
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, "tiny_mlp_op13.onnx"));
        string model = cli.PathOf("ef.kgw");
        WeightFile.Write(model, new WeightModel(ModelKind.ElemNet, [.. Featuriser.Layout(ModelKind.ElemNet).Accepted], "ef", "eV/atom", graph, "{}", "test"));
        return model;
    }

    string[] Run(string outDir, string ef, params string[] extra) =>
        ["optimise", "--base", "Na2FeO2", "--allow", "Na,Fe,O", "--max-elements", "3", "--candidates", "8", "--steps", "4",
            "--max-atoms", "12", "--tc-model", "random", "--ef-model", ef, "--device", "cpu", "--quiet", "--out", outDir, .. extra];

    [Fact]
    public void E_above_hull_matches_the_phase_diagram_and_kiago_hull_and_absent_flag_leaves_the_table_unchanged()
    {
        string ef = EfModel();
        string reference = cli.File("ref.csv", References);
        string withHull = cli.PathOf("with"), without = cli.PathOf("without");
        var (code, _, err) = cli.Run(Run(withHull, ef, "--hull-reference", reference));
        Assert.True(code == ExitCodes.Ok, err);
        (code, _, err) = cli.Run(Run(without, ef));
        Assert.True(code == ExitCodes.Ok, err);

        var lines = File.ReadAllLines(Path.Combine(withHull, "candidates.csv"));
        var plain = File.ReadAllLines(Path.Combine(without, "candidates.csv"));
        Assert.Equal(string.Join(",", DesignTables.CandidateColumns), plain[0]);
        Assert.Equal(string.Join(",", DesignTables.CandidateColumns) + ",e_above_hull", lines[0]);
        // the hull only appends a column: everything else is byte-identical to the run without it
        Assert.Equal(plain, lines.Select(l => l[..l.LastIndexOf(',')]));
        Assert.DoesNotContain("\"hull_reference\"", File.ReadAllText(Path.Combine(without, "manifest.json")));
        Assert.Contains("\"hull_reference\"", File.ReadAllText(Path.Combine(withHull, "manifest.json")));

        // expected: references inside the candidate's system, energies from the same model, candidate at its ef_rounded
        using var backend = new CpuBackend(threads: 2);
        using var model = GraphModel.Load(ef, backend);
        Composition[] refs = [.. new[] { "Fe2O3", "FeO", "Fe3O4", "NaCl", "Na2O", "NaFeO2" }.Select(Composition.Parse)];
        var energies = ModelPredictions.Predict(model, refs);
        int formulaCol = Array.IndexOf(DesignTables.CandidateColumns, "formula"), efCol = Array.IndexOf(DesignTables.CandidateColumns, "ef_rounded");
        var checkedFormulas = new List<(string Formula, double Ef, double EAboveHull)>();
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            double written = double.Parse(f[^1], CultureInfo.InvariantCulture);
            if (f[formulaCol].Length == 0 || Composition.Parse(f[formulaCol]).Count < 2) { Assert.True(double.IsNaN(written), line); continue; }
            var c = Composition.Parse(f[formulaCol]);
            double efRounded = double.Parse(f[efCol], CultureInfo.InvariantCulture);
            var diagram = new PhaseDiagram(refs.Select((r, i) => new HullEntry(r, energies[i])).Where(e => e.Composition.Elements.All(c.Contains)));
            Assert.Equal(diagram.EnergyAboveHull(c, efRounded), written, 1e-5);
            checkedFormulas.Add((f[formulaCol], efRounded, written));
        }
        Assert.NotEmpty(checkedFormulas);

        // `kiago hull` on the same formulas gives the same hull energies
        var distinct = checkedFormulas.DistinctBy(x => x.Formula).ToList();
        var (hullCode, hullOut, hullErr) = cli.Run(["hull", .. distinct.Select(x => x.Formula), "--reference", reference, "--ef-model", ef, "--device", "cpu"]);
        Assert.True(hullCode == ExitCodes.Ok, hullErr);
        var hullLines = hullOut.Trim().Split('\n').Skip(1).ToArray();
        for (int i = 0; i < distinct.Count; i++)
        {
            double hullEnergy = double.Parse(hullLines[i].Split(',')[2], CultureInfo.InvariantCulture);
            Assert.Equal(Math.Max(0, distinct[i].Ef - hullEnergy), distinct[i].EAboveHull, 1e-5);
        }
    }

    [Fact]
    public void Each_reference_is_predicted_once_and_each_system_gets_one_diagram()
    {
        string reference = cli.File("ref.csv", References);
        var set = HullReferenceReader.Read(reference, "formula", "--hull-reference");
        Assert.Equal(6, set.Count); // O2 is an element, Fe1O1 repeats FeO, the blank line is skipped
        Assert.Equal(["Fe2O3", "Fe1O1", "Fe3O4"], set.Inside([.. Composition.Parse("FeO").Elements]).Select(c => c.ToFormulaString()));
        using var backend = new CpuBackend(threads: 2);
        using var model = new CountingModel(GraphModel.Load(EfModel(), backend));
        var hull = new PredictedHull(set, model);
        hull.Prepare([Composition.Parse("Fe2O5"), Composition.Parse("Fe5O2")]);
        Assert.Equal((1, 3), (model.Calls, model.Rows)); // Fe-O references, one batch
        var feo = hull.For(Composition.Parse("Fe3O2"));
        Assert.Same(feo.Diagram, hull.For(Composition.Parse("Fe1O3")).Diagram);
        Assert.Equal(3, feo.References);
        hull.Prepare([Composition.Parse("NaFe2O4"), Composition.Parse("Na3FeO")]);
        Assert.Equal(3 + 2, model.Rows); // only Na2O and NaFeO2 are new; NaCl lies outside
        Assert.Equal(5, hull.For(Composition.Parse("NaFe2O4")).References);
        Assert.Equal(5, model.Rows);
    }

    [Fact]
    public void Resume_refuses_to_mix_runs_with_and_without_the_hull_column()
    {
        string ef = EfModel(), dir = cli.PathOf("run");
        var (code, _, err) = cli.Run(Run(dir, ef, "--hull-reference", cli.File("ref.csv", References)));
        Assert.True(code == ExitCodes.Ok, err);
        (code, _, err) = cli.Run(Run(dir, ef, "--resume"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("hull_reference", err);
    }

    sealed class CountingModel(ICompositionModel inner) : ICompositionModel
    {
        public int Calls, Rows;
        public string OutputName => inner.OutputName;
        public string OutputUnit => inner.OutputUnit;
        public IBackend Backend => inner.Backend;
        public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) { Calls++; Rows += batch; inner.Forward(batch, x, y); }
        public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dx, float scale) =>
            throw new NotSupportedException();
        public void Dispose() => inner.Dispose();
    }

    [Theory]
    [InlineData("formula\nFe2O3\nXx2\n", "formula", "line 3, column \"formula\"")]
    [InlineData("formula\nFe2O3\n", "comp", "no column \"comp\"")]
    public void Bad_reference_file_is_rejected_before_compute_naming_file_line_and_column(string text, string column, string message)
    {
        string reference = cli.File("bad.csv", text);
        var (code, _, err) = cli.Run(Run(cli.PathOf("run"), "random", "--hull-reference", reference, "--hull-formula-column", column));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--hull-reference", err);
        Assert.Contains(reference, err);
        Assert.Contains(message, err);
        Assert.False(File.Exists(Path.Combine(cli.PathOf("run"), "manifest.json")));
    }
}
