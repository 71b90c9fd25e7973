using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;

namespace Kiago.Cli.Runs;

/// <summary>
/// The per-base part files of a run folder (.parts/base-NNNN.KIND) and their completion records
/// (.parts/base-NNNN.done): each part is written atomically, then the record listing every part's length and SHA-256
/// (and the base's wall time) is written atomically after them. A base counts as complete only when its record exists
/// and every part matches it, so a truncated, edited or missing part is found before it is reused or merged.
/// </summary>
public sealed class PartStore(string runDir)
{
    public const string Folder = ".parts";

    public string Dir { get; } = Path.Combine(runDir, Folder);

    public string PartPath(int index, string kind) => Path.Combine(Dir, $"base-{index:D4}.{kind}");

    string RecordPath(int index) => Path.Combine(Dir, $"base-{index:D4}.done");

    /// <summary>Writes a base's parts, then its completion record.</summary>
    public void Write(int index, string name, BaseParts produced, double seconds)
    {
        var parts = produced.Files;
        Directory.CreateDirectory(Dir);
        foreach (var (kind, text) in parts) AtomicFile.Write(PartPath(index, kind), w => w.Write(text));
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("base_index", index);
            w.WriteString("base", name);
            w.WriteNumber("seconds", Math.Round(seconds, 3));
            foreach (var (timing, value) in (produced.Timings ?? new Dictionary<string, double>()).OrderBy(t => t.Key, StringComparer.Ordinal))
                w.WriteNumber(timing, value);
            w.WriteStartObject("parts");
            foreach (var (kind, text) in parts.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var bytes = CsvWriter.Utf8.GetBytes(text);
                w.WriteStartObject(kind);
                w.WriteNumber("bytes", bytes.Length);
                w.WriteString("sha256", Convert.ToHexStringLower(SHA256.HashData(bytes)));
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        AtomicFile.Write(RecordPath(index), stream.ToArray());
    }

    /// <summary>
    /// Checks base <paramref name="index"/>: its record exists, names <paramref name="name"/>, lists every kind in
    /// <paramref name="kinds"/>, and every listed part has the recorded length and SHA-256. Returns null when it
    /// verifies, else the reason (naming the file).
    /// </summary>
    public string? Verify(int index, string name, IEnumerable<string> kinds)
    {
        string record = RecordPath(index);
        if (!File.Exists(record)) return $"{record} is missing (the base never finished)";
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(record)); }
        catch (JsonException e) { return $"{record} is not valid JSON ({e.Message})"; }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("parts", out var parts) || parts.ValueKind != JsonValueKind.Object)
                return $"{record} has no 'parts' object";
            if (!root.TryGetProperty("base", out var b) || b.ValueKind != JsonValueKind.String || b.GetString() != name)
                return $"{record} is for another base (expected {name})";
            foreach (var kind in kinds)
            {
                if (!parts.TryGetProperty(kind, out var entry)
                    || !entry.TryGetProperty("bytes", out var bytesElement) || !bytesElement.TryGetInt64(out long length)
                    || !entry.TryGetProperty("sha256", out var shaElement) || shaElement.ValueKind != JsonValueKind.String)
                    return $"{record} does not list the part '{kind}'";
                string path = PartPath(index, kind);
                if (!File.Exists(path)) return $"{path} is missing";
                var content = File.ReadAllBytes(path);
                if (content.Length != length) return $"{path} has {content.Length} bytes, its completion record says {length}";
                if (Convert.ToHexStringLower(SHA256.HashData(content)) != shaElement.GetString())
                    return $"{path} does not match the SHA-256 in its completion record";
            }
        }
        return null;
    }

    /// <summary>A timing a completed base recorded ("seconds" = its wall time; 0 when the record has none).</summary>
    public double Seconds(int index, string name = "seconds")
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(RecordPath(index)));
        return doc.RootElement.TryGetProperty(name, out var s) && s.TryGetDouble(out double v) ? v : 0;
    }

    public string Read(int index, string kind) => File.ReadAllText(PartPath(index, kind), CsvWriter.Utf8);

    /// <summary>Copies a verified base's parts and record into another run folder (merge).</summary>
    public void CopyTo(PartStore target, int index, IEnumerable<string> kinds)
    {
        Directory.CreateDirectory(target.Dir);
        foreach (var kind in kinds) CopyAtomically(PartPath(index, kind), target.PartPath(index, kind));
        CopyAtomically(RecordPath(index), target.RecordPath(index));
    }

    static void CopyAtomically(string from, string to) => AtomicFile.Write(to, File.ReadAllBytes(from));

    public static string Index(int i) => i.ToString(CultureInfo.InvariantCulture);

    /// <summary>Assembles one table from the completed bases' parts.</summary>
    public void WriteTable(string outDir, RunTable table, IEnumerable<int> completed)
    {
        AtomicFile.Write(Path.Combine(outDir, table.File), w =>
        {
            if (table.Shape == TableShape.JsonArray)
            {
                var sb = new StringBuilder("[");
                bool first = true;
                foreach (int i in completed)
                {
                    string part = Read(i, table.PartKind);
                    if (part.Length == 0) continue; // a base that produced no object (e.g. a skipped C-ES base)
                    sb.Append(first ? "\n" : ",\n").Append(part);
                    first = false;
                }
                w.Write(sb.Append("\n]\n").ToString());
                return;
            }
            w.Write(table.Header);
            foreach (int i in completed) w.Write(Read(i, table.PartKind));
        });
    }
}
