using System.Security.Cryptography;
using System.Text.Json;

namespace Kiago.Cli.IO;

/// <summary>
/// A completion record: a small JSON file written atomically after a set of part files, listing each part's size,
/// row count (line feeds) and SHA-256. A part is reused (on --resume, or by a merge) only when it matches its record,
/// so a truncated, edited or half-written part is never silently taken as finished work: <see cref="Verify"/> names
/// the first part that does not match and why.
/// </summary>
public static class CompletionRecord
{
    /// <summary>
    /// Records <paramref name="parts"/> (already complete on disk) in <paramref name="recordPath"/>, atomically;
    /// <paramref name="extra"/> writes further properties of the record (a run's base name and timings).
    /// </summary>
    public static void Write(string recordPath, IEnumerable<string> parts, Action<Utf8JsonWriter>? extra = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            extra?.Invoke(w);
            w.WriteStartObject("parts");
            foreach (var part in parts)
            {
                var (bytes, rows, sha) = Measure(part);
                w.WriteStartObject(Path.GetFileName(part));
                w.WriteNumber("bytes", bytes);
                w.WriteNumber("rows", rows);
                w.WriteString("sha256", sha);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        AtomicFile.Write(recordPath, stream.ToArray());
    }

    /// <summary>
    /// Null when every one of <paramref name="parts"/> (files beside the record) matches the record; otherwise what is
    /// wrong, naming the record or the part, e.g. <c>.parts/base-0001.candidates.csv: 1180 bytes, the record says 2360</c>.
    /// </summary>
    public static string? Verify(string recordPath, IEnumerable<string> parts)
    {
        if (!File.Exists(recordPath)) return $"{recordPath}: missing (the parts were never recorded as complete)";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(recordPath)); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return $"{recordPath}: unreadable ({e.Message})";
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("parts", out var listed)
                || listed.ValueKind != JsonValueKind.Object)
                return $"{recordPath}: not a completion record";
            foreach (var part in parts)
            {
                string name = Path.GetFileName(part);
                if (!listed.TryGetProperty(name, out var entry) || entry.ValueKind != JsonValueKind.Object
                    || !entry.TryGetProperty("bytes", out var b) || !b.TryGetInt64(out long bytes)
                    || !entry.TryGetProperty("rows", out var r) || !r.TryGetInt64(out long rows)
                    || !entry.TryGetProperty("sha256", out var s) || s.ValueKind != JsonValueKind.String)
                    return $"{recordPath}: no valid entry for {name}";
                if (!File.Exists(part)) return $"{part}: missing";
                var (actualBytes, actualRows, actualSha) = Measure(part);
                if (actualBytes != bytes) return $"{part}: {actualBytes} bytes, its completion record says {bytes}";
                if (actualRows != rows) return $"{part}: {actualRows} rows, its completion record says {rows}";
                if (actualSha != s.GetString()) return $"{part}: SHA-256 {actualSha} differs from its completion record's";
            }
            return null;
        }
    }

    static (long Bytes, long Rows, string Sha256) Measure(string path)
    {
        var data = File.ReadAllBytes(path);
        long rows = 0;
        foreach (byte x in data) if (x == (byte)'\n') rows++;
        return (data.LongLength, rows, Convert.ToHexStringLower(SHA256.HashData(data)));
    }
}
