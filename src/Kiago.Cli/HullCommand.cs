using System.CommandLine;
using System.Globalization;
using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Cli.Eval;
using Kiago.Cli.IO;
using Kiago.Design.Experiments;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago hull FORMULA... --reference FILE.csv --ef-model M [--formula-column formula] [--out FILE.csv]</c>: energy
/// above the lower convex hull of each formula, every energy (formulas and references) predicted by the same ElemNet,
/// elements at 0 eV/atom (reference §9). Only reference compounds inside a query's chemical system are predicted.
/// </summary>
internal static class HullCommand
{
    public static Command Create()
    {
        var formulas = new Argument<string[]>("formula") { Description = "Formulas to place against the hull", Arity = ArgumentArity.OneOrMore };
        var reference = new Option<string>("--reference") { Description = "CSV of reference compositions, e.g. ../shared/data/formation_energy_mp.csv", Required = true };
        var column = new Option<string>("--formula-column") { Description = "Column of --reference holding the formulas", DefaultValueFactory = _ => "formula" };
        var efModel = new Option<string>("--ef-model") { Description = "Formation-energy predictor (.kgw, ElemNet)", Required = true };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto" };
        var outFile = new Option<string?>("--out") { Description = "Write the CSV here instead of stdout" };
        var command = new Command("hull", "Energy above the convex hull from predicted formation energies") { formulas, reference, column, efModel, device, outFile };
        command.SetAction(r =>
        {
            var queries = r.GetRequiredValue(formulas).Select((f, i) => Composition.TryParse(f, out var c, out var e) ? c
                : throw new UserInputException($"formula {i + 1}: {e.Message}")).ToArray();
            var system = queries.SelectMany(q => q.Elements).ToHashSet();
            var references = ReadReferences(r.GetRequiredValue(reference), r.GetValue(column)!, queries);
            using var backend = EvalIO.Backend(r.GetValue(device)!);
            using var ef = EvalIO.LoadModel(r.GetRequiredValue(efModel), backend, "--ef-model")!;
            var energies = ModelPredictions.Predict(ef, [.. queries, .. references]);
            var diagram = new PhaseDiagram(references.Select((c, i) => new HullEntry(c, energies[queries.Length + i])));
            r.InvocationConfiguration.Error.WriteLine($"kiago: {references.Count} reference compounds inside the formulas' chemical systems");

            var text = new StringWriter();
            var csv = new CsvWriter(text);
            csv.WriteRecord("formula", "ef_predicted", "hull_energy", "e_above_hull", "decomposition");
            for (int i = 0; i < queries.Length; i++)
            {
                double e = energies[i], hull = diagram.HullEnergy(queries[i]);
                var phases = diagram.Decomposition(queries[i]).Where(p => p.AtomFraction > 1e-9)
                    .Select(p => $"{p.Entry.Composition.ToFormulaString()}:{F(p.AtomFraction)}");
                csv.WriteRecord(queries[i].ToFormulaString(), F(e), F(hull), F(Math.Max(0, e - hull)), string.Join(" ", phases));
            }
            if (r.GetValue(outFile) is { } path) AtomicFile.Write(path, w => w.Write(text.ToString()));
            else r.InvocationConfiguration.Output.Write(text.ToString());
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Reference compositions whose elements all lie in some query's chemical system (others cannot touch its hull).</summary>
    static List<Composition> ReadReferences(string path, string column, IReadOnlyList<Composition> queries)
    {
        var systems = queries.Select(q => q.Elements.ToHashSet()).ToArray();
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        int index = header.Require(column);
        var list = new List<Composition>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in reader.ReadAll())
        {
            if (record.Fields is [""]) continue;
            if (index >= record.Fields.Length) throw new UserInputException($"{path}: line {record.Line}: no field for column \"{column}\"");
            if (!Composition.TryParse(record.Fields[index], out var c, out var e))
                throw new UserInputException($"{path}: line {record.Line}, column \"{column}\": {e.Message}");
            if (c.Count > 1 && systems.Any(s => c.Elements.All(s.Contains)) && seen.Add(c.Normalise().ToCanonicalString()))
                list.Add(c);
        }
        return list;
    }

    static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
}
