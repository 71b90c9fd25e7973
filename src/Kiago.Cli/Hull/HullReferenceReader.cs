using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Cli.IO;

namespace Kiago.Cli.Hull;

/// <summary>
/// Reads a hull's reference compositions from one column of a CSV. Every row is checked when the file is read, so a
/// bad file fails before any compute.
/// </summary>
internal static class HullReferenceReader
{
    /// <summary>Reads <paramref name="column"/> of <paramref name="path"/>; errors name <paramref name="option"/>, the file, line and column.</summary>
    public static HullReferenceSet Read(string path, string column, string option)
    {
        var compositions = new List<Composition>();
        // every message names the option and the file (CsvReader's and CsvHeader's name the file; the option is the label)
        using var reader = CsvReader.Open(path, option);
        var header = CsvHeader.Read(reader, $"{option} {path}");
        int index = header.Require(column);
        foreach (var record in reader.ReadAll())
        {
            if (record.IsBlank) continue;
            if (index >= record.Fields.Length) throw new UserInputException($"{option} {path}: line {record.Line}: no field for column \"{column}\"");
            if (!Composition.TryParse(record.Fields[index], out var c, out var e))
                throw new UserInputException($"{option} {path}: line {record.Line}, column \"{column}\": {e.Message}");
            compositions.Add(c);
        }
        if (compositions.Count == 0) throw new UserInputException($"{option} {path}: no rows below the header");
        return HullReferenceSet.From(compositions, path);
    }
}
