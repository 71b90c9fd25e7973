using System.Text;

namespace Kiago.Cli.IO;

/// <summary>RFC 4180 writer: quotes a field only when it holds a comma, quote, CR or LF; lines end with LF.</summary>
public sealed class CsvWriter(TextWriter output)
{
    public void WriteRecord(params IEnumerable<string> fields)
    {
        bool first = true;
        foreach (var f in fields)
        {
            if (!first) output.Write(',');
            first = false;
            output.Write(Quote(f));
        }
        output.Write('\n');
    }

    public static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";

    /// <summary>UTF-8 without BOM: the encoding every Kiago CSV is written in.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
}
