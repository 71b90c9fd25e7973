using System.CommandLine;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.Eval;
using Kiago.Chemistry.Hull;
using Kiago.Cli.Hull;
using Kiago.Design.Hull;
using Kiago.Cli.IO;
using Kiago.Design.Experiments;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago hull FORMULA... --reference FILE.csv --ef-model M [--formula-column formula] [--out FILE.csv]</c>: energy
/// above the lower convex hull of each formula, every energy (formulas and references) predicted by the same ElemNet,
/// elements at 0 eV/atom (reference §9). Only reference compounds inside a query's chemical system are predicted
/// (the shared code path: <see cref="PredictedHull"/>).
/// </summary>
internal static class HullCommand
{
    public static Command Create()
    {
        var formulas = new Argument<string[]>("formula") { Description = "Formulas to place against the hull", Arity = ArgumentArity.OneOrMore };
        var reference = new Option<string>("--reference") { Description = "CSV of reference compositions, e.g. ../shared/data/formation_energy_mp.csv", Required = true };
        var column = new Option<string>("--formula-column") { Description = "Column of --reference holding the formulas", DefaultValueFactory = _ => "formula" };
        var efModel = ModelOptions.Ef("Formation-energy predictor (.kgw, elemnet)", required: true);
        var outFile = OutputOptions.File("Write the CSV here instead of stdout");
        var command = new Command("hull", "Energy above the convex hull from predicted formation energies") { formulas, reference, column, efModel, outFile };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(r =>
        {
            var queries = r.GetRequiredValue(formulas).Select((f, i) => Composition.TryParse(f, out var c, out var e) ? c
                : throw new UserInputException($"formula {i + 1}: {e.Message}")).ToArray();
            var references = HullReferenceReader.Read(r.GetRequiredValue(reference), r.GetValue(column)!, "--reference");
            if (r.GetValue(outFile) is { } target)
            {
                OutputOptions.CheckFile(target);
                OutputOptions.RefuseOverwritingInput(r.GetRequiredValue(reference), target, "--out");
            }
            using var backend = compute.CreateBackend(r);
            using var ef = EvalIO.LoadModel(r.GetRequiredValue(efModel), backend, ModelOptions.EfOption)!;
            var hull = new PredictedHull(references, ef);
            hull.Prepare(queries);
            var energies = ModelPredictions.Predict(ef, queries);
            r.InvocationConfiguration.Error.WriteLine($"kiago: {hull.Predicted} reference compounds inside the formulas' chemical systems");

            var text = new StringWriter();
            var csv = new CsvWriter(text);
            csv.WriteRecord("formula", "ef_predicted", "hull_energy", "e_above_hull", "decomposition");
            for (int i = 0; i < queries.Length; i++)
            {
                var diagram = hull.For(queries[i]).Diagram;
                double e = energies[i], hullEnergy = diagram.HullEnergy(queries[i]);
                var phases = diagram.Decomposition(queries[i]).Where(p => p.AtomFraction > 1e-9)
                    .Select(p => $"{p.Entry.Composition.ToFormulaString()}:{F(p.AtomFraction)}");
                csv.WriteRecord(queries[i].ToFormulaString(), F(e), F(hullEnergy), F(diagram.EnergyAboveHull(queries[i], e)), string.Join(" ", phases));
            }
            if (r.GetValue(outFile) is { } path) AtomicFile.Write(path, w => w.Write(text.ToString()));
            else r.InvocationConfiguration.Output.Write(text.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }

    static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
