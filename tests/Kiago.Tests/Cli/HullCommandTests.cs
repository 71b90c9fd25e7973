using System.Globalization;
using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Design.Experiments;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;
using Kiago.Tests.Cli;
using Kiago.Tests.Nets;

namespace Kiago.Tests.Cli;

public sealed class HullCommandTests : IDisposable
{
    readonly CliHarness cli = new();

    public void Dispose() => cli.Dispose();

    [Fact]
    public void Hull_uses_one_model_for_all_energies_and_only_references_in_the_system()
    {
        var graph = OnnxImporter.Import(Path.Combine(NetsFixtures.Folder, "tiny_mlp_op13.onnx"));
        string model = cli.PathOf("ef.kgw");
        WeightFile.Write(model, new WeightModel(ModelKind.ElemNet, [.. Featuriser.Layout(ModelKind.ElemNet).Accepted], "ef", "eV/atom", graph, "{}", "test"));
        string reference = cli.File("ref.csv", "formula,e\nFe2O3,1\nFeO,1\nFe3O4,1\nNaCl,1\nO2,1\nFe1O1,1\n");
        var (code, output, err) = cli.Run("hull", "Fe1O2", "Fe2O3", "--reference", reference, "--ef-model", model, "--device", "cpu");
        Assert.True(code == 0, err);
        Assert.Contains("3 reference compounds", err); // Fe2O3, FeO, Fe3O4: NaCl is outside, O2 is an element, Fe1O1 repeats FeO

        using var backend = new CpuBackend(threads: 2);
        using var ef = GraphModel.Load(model, backend);
        Composition[] refs = [Composition.Parse("Fe2O3"), Composition.Parse("FeO"), Composition.Parse("Fe3O4")];
        Composition[] queries = [Composition.Parse("Fe1O2"), Composition.Parse("Fe2O3")];
        var e = ModelPredictions.Predict(ef, [.. queries, .. refs]);
        var diagram = new PhaseDiagram(refs.Select((c, i) => new HullEntry(c, e[2 + i])));
        var lines = output.Trim().Split('\n');
        Assert.Equal("formula,ef_predicted,hull_energy,e_above_hull,decomposition", lines[0]);
        for (int q = 0; q < 2; q++)
        {
            var f = lines[q + 1].Split(',');
            double hull = diagram.HullEnergy(queries[q]);
            Assert.Equal(e[q], double.Parse(f[1], CultureInfo.InvariantCulture), 1e-5);
            Assert.Equal(hull, double.Parse(f[2], CultureInfo.InvariantCulture), 1e-5);
            Assert.Equal(Math.Max(0, e[q] - hull), double.Parse(f[3], CultureInfo.InvariantCulture), 1e-5);
        }
        // Fe2O3 is itself a reference: it lies on or above the hull built with it.
        Assert.True(double.Parse(lines[2].Split(',')[3], CultureInfo.InvariantCulture) >= 0);
    }

    [Fact]
    public void Bad_reference_rows_name_the_line()
    {
        string reference = cli.File("ref.csv", "formula\nFe2O3\nXx2\n");
        var (code, _, err) = cli.Run("hull", "FeO", "--reference", reference, "--ef-model", cli.PathOf("none.kgw"));
        Assert.Equal(2, code);
        Assert.Contains("line 3, column \"formula\"", err);
    }
}
