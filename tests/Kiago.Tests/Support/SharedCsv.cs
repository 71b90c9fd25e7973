using Kiago.Cli.IO;

namespace Kiago.Tests.Support;

/// <summary>Reads a CSV under ../shared/data in place, as (line, column-name → value) rows.</summary>
public static class SharedCsv
{
    public static IEnumerable<(long Line, IReadOnlyDictionary<string, string> Row)> Rows(string fileName)
    {
        var path = SharedData.Path("data", fileName);
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        foreach (var record in reader.ReadAll())
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Names.Count; i++)
                row[header.Names[i]] = i < record.Fields.Length ? record.Fields[i] : "";
            yield return (record.Line, row);
        }
    }

    /// <summary>One column of a CSV under ../shared/data, as (line, value).</summary>
    public static IEnumerable<(long Line, string Value)> Column(string fileName, string column)
    {
        var path = SharedData.Path("data", fileName);
        using var reader = CsvReader.Open(path);
        int index = CsvHeader.Read(reader, path).Require(column);
        foreach (var record in reader.ReadAll())
            yield return (record.Line, record.Fields[index]);
    }

    /// <summary>The CSV files in ../shared/data that have a "formula" column.</summary>
    public static IEnumerable<string> FilesWithFormulaColumn() =>
        Directory.GetFiles(SharedData.Path("data"), "*.csv")
            .Where(path => File.ReadLines(path).First().Split(',').Contains("formula"))
            .Select(Path.GetFileName)
            .Order()!;
}
