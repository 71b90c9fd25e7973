using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Design.Novelty;

namespace Kiago.Cli.Design;

/// <summary>
/// The known-compositions list of a run: the built-in index, or <c>--known FILE.csv</c> (column <c>formula</c>, optional
/// <c>tc_kelvin</c>; empty Tc = unknown). A bad row is named on stderr (file, line, column, reason) and skipped, and the
/// number skipped is reported; a file that cannot be read, lacks the column or has no usable row stops the command
/// (exit 2) before any compute.
/// </summary>
internal static class KnownListReader
{
    public const string FormulaColumn = "formula";
    public const string TcColumn = "tc_kelvin";

    public static KnownCompositions Load(string? path, string option, TextWriter stderr)
    {
        if (path is null) return KnownCompositions.Builtin;
        if (!File.Exists(path)) throw new UserInputException($"{option}: {path} not found");
        var items = new List<(string, Composition, double)>();
        int skipped = 0;
        try
        {
            using var reader = CsvReader.Open(path);
            var header = CsvHeader.Read(reader, path);
            int formula = header.Require(FormulaColumn);
            int tc = header.Names.ToList().IndexOf(TcColumn);
            foreach (var record in reader.ReadAll())
            {
                if (record.Fields is [""]) continue;
                string? problem = null, column = FormulaColumn;
                Composition? composition = null;
                double tcValue = double.NaN;
                if (formula >= record.Fields.Length) problem = "the field is missing";
                else if (!Composition.TryParse(record.Fields[formula], out composition, out var e)) problem = e.Message;
                else if (tc >= 0)
                {
                    column = TcColumn;
                    string text = tc < record.Fields.Length ? record.Fields[tc].Trim() : "";
                    if (text.Length > 0 && (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out tcValue)
                                            || !double.IsFinite(tcValue) || tcValue < 0))
                        problem = $"\"{text}\" is not a Tc in kelvin (a number ≥ 0, or empty when unknown)";
                }
                if (problem is not null)
                {
                    skipped++;
                    stderr.WriteLine($"kiago: {option} {path}: line {record.Line}, column \"{column}\": {problem}; row skipped");
                    continue;
                }
                items.Add((record.Fields[formula].Trim(), composition!, tcValue));
            }
        }
        catch (UserInputException e) { throw new UserInputException($"{option}: {e.Message}"); }
        if (skipped > 0) stderr.WriteLine($"kiago: {option} {path}: {skipped} bad row{(skipped == 1 ? "" : "s")} skipped, {items.Count} used");
        if (items.Count == 0) throw new UserInputException($"{option}: {path} has no usable row (column \"{FormulaColumn}\")");
        string sha = Kiago.Nets.FileChecksum.Sha256Hex(path);
        return KnownCompositions.FromEntries(items, $"{Path.GetFullPath(path)} sha256:{sha} ({items.Count} rows used, {skipped} skipped)");
    }
}
