using System.CommandLine;
using System.Text.Json;
using Kiago.Chemistry;
using Kiago.Cli.IO;

namespace Kiago.Cli;

/// <summary><c>kiago parse FORMULA... [--json]</c>: each formula's canonical print and normalised composition.</summary>
internal static class ParseCommand
{
    public static Command Create()
    {
        var formulas = new Argument<string[]>("formula")
        {
            Description = "Formulas in pymatgen syntax, e.g. YBa2Cu3O6.95 or \"Fe2(SO4)3\"",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Write JSON instead of CSV" };
        var command = new Command("parse", "Parse formulas and print canonical and normalised compositions") { formulas, json };
        command.SetAction(result => Run(result.GetRequiredValue(formulas), result.GetValue(json),
            result.InvocationConfiguration.Output, result.InvocationConfiguration.Error));
        return command;
    }

    static int Run(string[] formulas, bool json, TextWriter output, TextWriter error)
    {
        var parsed = new List<(string Formula, Composition Composition)>();
        int bad = 0;
        for (int i = 0; i < formulas.Length; i++)
        {
            if (Composition.TryParse(formulas[i], out var composition, out var e))
                parsed.Add((formulas[i], composition));
            else
            {
                error.WriteLine($"kiago: error: formula {i + 1}: {e.Message}");
                bad++;
            }
        }
        if (json) WriteJson(parsed, output); else WriteCsv(parsed, output);
        return bad == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    static void WriteCsv(List<(string Formula, Composition Composition)> parsed, TextWriter output)
    {
        var csv = new CsvWriter(output);
        csv.WriteRecord("formula", "canonical", "normalised", "reduced", "total_atoms");
        foreach (var (formula, c) in parsed)
            csv.WriteRecord(formula, c.ToCanonicalString(), c.Normalise().ToCanonicalString(), c.Reduce().ToCanonicalString(),
                AmountFormat.Format(c.TotalAtoms));
    }

    static void WriteJson(List<(string Formula, Composition Composition)> parsed, TextWriter output)
    {
        var rows = parsed.Select(p => new
        {
            formula = p.Formula,
            canonical = p.Composition.ToCanonicalString(),
            total_atoms = p.Composition.TotalAtoms,
            amounts = ByZ(p.Composition),
            fractions = ByZ(p.Composition.Normalise()),
        });
        output.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
    }

    static Dictionary<string, double> ByZ(Composition c) =>
        c.Elements.Select((e, i) => (e, a: c.Amounts[i])).OrderBy(x => x.e.Z).ToDictionary(x => x.e.Symbol, x => x.a);
}
