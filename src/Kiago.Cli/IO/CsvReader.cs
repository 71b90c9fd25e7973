using System.Text;

namespace Kiago.Cli.IO;

/// <summary>
/// One CSV record: its fields and the 1-based line on which it starts. <see cref="IsBlank"/>: the line held no
/// characters at all (not even <c>""</c>), the only kind of record a reader may skip — a quoted empty field is a row.
/// </summary>
public sealed record CsvRecord(long Line, string[] Fields, bool IsBlank = false);

/// <summary>
/// RFC 4180 reader: comma separated, fields optionally in double quotes ("" escapes a quote; quoted fields may hold
/// commas and line breaks), records end at LF or CRLF. Strict UTF-8. Malformed quoting raises a
/// <see cref="UserInputException"/> naming the source, line and column.
/// </summary>
public sealed class CsvReader : IDisposable
{
    readonly StrictUtf8Reader input;
    readonly string source;
    readonly StringBuilder field = new();
    long line = 1;
    int column = 1;
    bool fieldWasQuoted;

    public CsvReader(Stream stream, string source)
    {
        input = new StrictUtf8Reader(stream, source);
        this.source = source;
    }

    /// <summary>Opens a file; a missing or unreadable file (or a folder) is a <see cref="UserInputException"/> naming the option.</summary>
    public static CsvReader Open(string path, string? option = null)
    {
        string what = option is null ? path : $"{option} {path}";
        if (Directory.Exists(path)) throw new UserInputException($"{what}: is a folder, expected a CSV file");
        if (!File.Exists(path)) throw new UserInputException($"{what}: file not found");
        try
        {
            return new CsvReader(File.OpenRead(path), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserInputException($"{what}: cannot open: {e.Message}");
        }
    }

    /// <summary>Next record, or null at end of input. A blank line yields a record with one empty field and <see cref="CsvRecord.IsBlank"/>.</summary>
    public CsvRecord? ReadRecord()
    {
        if (input.Peek() < 0) return null;
        long startLine = line;
        var fields = new List<string>();
        while (true)
        {
            bool endOfRecord = ReadField();
            fields.Add(field.ToString());
            if (endOfRecord) return new CsvRecord(startLine, [.. fields], IsBlank: fields is [""] && !fieldWasQuoted);
        }
    }

    public IEnumerable<CsvRecord> ReadAll()
    {
        while (ReadRecord() is { } record) yield return record;
    }

    /// <summary>Reads one field into <see cref="field"/>; true when it ended the record.</summary>
    bool ReadField()
    {
        field.Clear();
        fieldWasQuoted = input.Peek() == '"';
        if (fieldWasQuoted)
        {
            long quoteLine = line;
            int quoteColumn = column;
            Next();
            while (true)
            {
                int c = Next();
                if (c < 0)
                    throw new UserInputException($"{source}: line {quoteLine}, column {quoteColumn}: quoted field is never closed");
                if (c == '"')
                {
                    if (input.Peek() == '"') { Next(); field.Append('"'); continue; }
                    break;
                }
                field.Append((char)c);
            }
            int after = input.Peek();
            if (after is not (',' or '\r' or '\n' or -1))
                throw new UserInputException($"{source}: line {line}, column {column}: unexpected '{(char)after}' after a closing quote");
        }
        while (true)
        {
            int c = Next();
            switch (c)
            {
                case -1: return true;
                case ',': return false;
                case '\n': return true;
                case '\r' when input.Peek() == '\n': Next(); return true;
                case '"':
                    throw new UserInputException($"{source}: line {line}, column {column - 1}: stray '\"' inside an unquoted field");
                default: field.Append((char)c); break;
            }
        }
    }

    int Next()
    {
        int c = input.Read();
        if (c == '\n') { line++; column = 1; }
        else if (c >= 0) column++;
        return c;
    }

    public void Dispose() => input.Dispose();
}

/// <summary>A header record with by-name column lookup.</summary>
public sealed class CsvHeader(string source, string[] names)
{
    public IReadOnlyList<string> Names => names;

    /// <summary>Index of a column; a missing column is a <see cref="UserInputException"/> listing what is there.</summary>
    public int Require(string name)
    {
        int i = Array.IndexOf(names, name);
        return i >= 0 ? i
            : throw new UserInputException($"{source}: no column \"{name}\" (columns: {string.Join(", ", names.Select(n => $"\"{n}\""))})");
    }

    /// <summary>Reads the header; an empty file is a <see cref="UserInputException"/>.</summary>
    public static CsvHeader Read(CsvReader reader, string source) =>
        reader.ReadRecord() is { } record ? new CsvHeader(source, record.Fields)
            : throw new UserInputException($"{source}: file is empty (expected a header line)");
}
