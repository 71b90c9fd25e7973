using System.CommandLine;
using System.Diagnostics;
using Kiago.Chemistry;
using Kiago.Chemistry.Screening;
using Kiago.Cli.IO;

namespace Kiago.Cli;

/// <summary>
/// <c>kiago screen --in file.csv --out verdicts.csv</c>: KIAGO's charge-neutrality/electronegativity screening of every
/// formula in a CSV column. Rows whose formula cannot be parsed are reported on stderr (line, column, reason) and
/// flagged in the output; the rest are screened. Every input row but a blank line gives exactly one output row (a
/// quoted empty field is a row, flagged "empty formula"). Exit 0 when every row parsed, 2 when some did not or the
/// file has no rows below its header.
/// </summary>
internal static class ScreenCommand
{
    static readonly Dictionary<string, OxidationStateTable> Tables = new()
    {
        ["smact14"] = OxidationStateTable.Smact14,
        ["pymatgen-common"] = OxidationStateTable.PymatgenCommon,
        ["icsd"] = OxidationStateTable.PymatgenIcsd,
    };

    const int MaxReportedBadRows = 20;

    public static Command Create()
    {
        var input = new Option<string>("--in") { Description = "Input CSV (UTF-8, with a header line)", Required = true };
        var output = OutputOptions.File("Output CSV of verdicts (written atomically)", required: true);
        var column = new Option<string>("--formula-column") { Description = "Column holding the formulas", DefaultValueFactory = _ => "formula" };
        var oxStates = new Option<string>("--ox-states")
        {
            Description = "Oxidation-state table: smact14 (KIAGO's), pymatgen-common or icsd (pymatgen's ICSD set)",
            DefaultValueFactory = _ => "smact14",
        };
        oxStates.AcceptOnlyFromAmong([.. Tables.Keys]);
        var maxElements = new Option<int?>("--max-elements") { Description = "Most distinct elements allowed (default 8; 3 with --hydride)" };
        var hydride = new Option<bool>("--hydride") { Description = "KIAGO's hydride check: per-atom states, ≤ 15 atoms, 0.4 ≤ x_H < 1" };
        var maxAtoms = new Option<int?>("--max-atoms") { Description = "With --hydride: most atoms allowed after rounding (default 15)" };
        var command = new Command("screen", "Screen formulas for charge neutrality and electronegativity as published KIAGO does")
        {
            input, output, column, oxStates, maxElements, hydride, maxAtoms,
        };
        var compute = ComputeOptions.AddTo(command, device: false);
        command.SetAction(result =>
        {
            var table = Tables[result.GetRequiredValue(oxStates)];
            var limit = result.GetValue(maxElements);
            if (limit is < 1) throw new UserInputException($"--max-elements must be at least 1 (got {limit})");
            var atoms = result.GetValue(maxAtoms);
            if (atoms is not null && !result.GetValue(hydride)) throw new UserInputException("--max-atoms applies only with --hydride");
            if (atoms is < 1) throw new UserInputException($"--max-atoms must be at least 1 (got {atoms})");
            int threads = compute.ThreadCount(result);
            Func<IReadOnlyList<Composition>, ScreeningVerdict[]> screen = result.GetValue(hydride)
                ? cs => Screener.ScreenHydrideMany(cs, new HydrideScreeningOptions { OxidationStates = table, MaxElements = limit ?? 3, MaxAtoms = atoms ?? 15 }, threads)
                : cs => Screener.ScreenMany(cs, new ScreeningOptions { OxidationStates = table, MaxElements = limit ?? 8 }, threads);
            string outPath = OutputOptions.CheckFile(result.GetRequiredValue(output)!);
            OutputOptions.RefuseOverwritingInput(result.GetRequiredValue(input), outPath, "--out");
            return Run(result.GetRequiredValue(input), result.GetRequiredValue(column), outPath, screen,
                result.InvocationConfiguration.Error);
        });
        return command;
    }

    sealed record Row(long Line, string Formula, Composition? Composition, string? Error);

    static int Run(string inPath, string formulaColumn, string outPath, Func<IReadOnlyList<Composition>, ScreeningVerdict[]> screen,
        TextWriter error)
    {
        var clock = Stopwatch.StartNew();
        var rows = ReadRows(inPath, formulaColumn);
        var bad = rows.Where(r => r.Error is not null).ToList();
        foreach (var row in bad.Take(MaxReportedBadRows))
            error.WriteLine($"kiago: warning: {inPath}: line {row.Line}, column \"{formulaColumn}\": {row.Error}");
        if (bad.Count > MaxReportedBadRows)
            error.WriteLine($"kiago: warning: … and {bad.Count - MaxReportedBadRows} more bad rows (flagged status=error in {outPath})");

        var good = rows.Where(r => r.Composition is not null).ToList();
        var verdicts = screen([.. good.Select(r => r.Composition!)]);
        var byLine = good.Select((r, i) => (r.Line, Verdict: verdicts[i])).ToDictionary(x => x.Line, x => x.Verdict);

        AtomicFile.Write(outPath, writer =>
        {
            var csv = new CsvWriter(writer);
            csv.WriteRecord("line", formulaColumn, "status", "passed", "valid", "charge_neutral", "electronegativity_ok",
                "shortcut", "integer_formula", "oxidation_states", "reasons");
            foreach (var row in rows)
            {
                if (row.Error is not null)
                {
                    csv.WriteRecord(row.Line.ToString(), row.Formula, "error", "", "", "", "", "", "", "", row.Error);
                    continue;
                }
                var v = byLine[row.Line];
                csv.WriteRecord(row.Line.ToString(), row.Formula, "ok", Flag(v.Passed), Flag(v.Valid), Flag(v.ChargeNeutral),
                    v.ElectronegativityOk is { } en ? Flag(en) : "", v.Shortcut == ScreeningShortcut.None ? "" : v.Shortcut.ToString(),
                    v.Formula ?? "", v.OxidationStates is null ? "" : string.Join(' ', v.OxidationStates), v.ReasonCodes);
            }
        });
        int passed = verdicts.Count(v => v.Passed);
        error.WriteLine($"kiago: screened {good.Count} formulas from {inPath}: {passed} passed, {good.Count - passed} failed" +
            $"{(bad.Count > 0 ? $", {bad.Count} bad rows" : "")} in {clock.Elapsed.TotalSeconds:0.00} s → {outPath}");
        return bad.Count == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
    }

    static string Flag(bool value) => value ? "true" : "false";

    static List<Row> ReadRows(string path, string formulaColumn)
    {
        using var reader = CsvReader.Open(path, "--in");
        var header = CsvHeader.Read(reader, path);
        int index = header.Require(formulaColumn);
        var rows = new List<Row>();
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue; // blank line
            if (index >= record.Fields.Length)
            {
                rows.Add(new(record.Line, "", null, $"row has {record.Fields.Length} fields; the header has {header.Names.Count}"));
                continue;
            }
            var formula = record.Fields[index];
            rows.Add(Composition.TryParse(formula, out var composition, out var e)
                ? new(record.Line, formula, composition, null)
                : new(record.Line, formula, null, e.Message));
        }
        if (rows.Count == 0) throw new UserInputException($"--in {path}: no rows below the header");
        return rows;
    }
}
