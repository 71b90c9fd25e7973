using System.Globalization;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;

namespace Kiago.Cli.Runs;

/// <summary>
/// The per-base part files of a run folder (.parts/base-NNNN.KIND) and their completion records
/// (.parts/base-NNNN.done.json, <see cref="CompletionRecord"/>): the parts are written atomically, then the record
/// listing every part's size, rows and SHA-256 (plus the base's name and wall time) is written atomically after them.
/// A base counts as complete only when its record exists and every part matches it, so a truncated, edited or missing
/// part is found before it is reused (--resume) or merged.
/// </summary>
public sealed class PartStore(string runDir)
{
    public const string Folder = ".parts";

    public string Dir { get; } = Path.Combine(runDir, Folder);

    public string PartPath(int index, string kind) => Path.Combine(Dir, $"base-{index:D4}.{kind}");

    public string RecordPath(int index) => PartPath(index, "done.json");

    /// <summary>Writes a base's parts, then its completion record.</summary>
    public void Write(int index, string name, BaseParts produced, double seconds)
    {
        Directory.CreateDirectory(Dir);
        File.Delete(RecordPath(index)); // a stale record of an earlier attempt must never vouch for new parts
        var kinds = produced.Files.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var kind in kinds) AtomicFile.Write(PartPath(index, kind), w => w.Write(produced.Files[kind]));
        CompletionRecord.Write(RecordPath(index), kinds.Select(k => PartPath(index, k)), w =>
        {
            w.WriteNumber("base_index", index);
            w.WriteString("base", name);
            w.WriteNumber("seconds", Math.Round(seconds, 3));
            foreach (var (timing, value) in (produced.Timings ?? new Dictionary<string, double>()).OrderBy(t => t.Key, StringComparer.Ordinal))
                w.WriteNumber(timing, value);
        });
    }

    /// <summary>
    /// Null when base <paramref name="index"/> is complete: its record is for <paramref name="name"/> and every part in
    /// <paramref name="kinds"/> matches it; else the reason, naming the record or the part.
    /// </summary>
    public string? Verify(int index, string name, IEnumerable<string> kinds)
    {
        if (CompletionRecord.Verify(RecordPath(index), kinds.Select(k => PartPath(index, k))) is { } problem) return problem;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(RecordPath(index)));
            if (doc.RootElement.TryGetProperty("base", out var b) && b.ValueKind == JsonValueKind.String && b.GetString() != name)
                return $"{RecordPath(index)}: the record is for base {b.GetString()}, not {name}";
        }
        catch (Exception e) when (e is JsonException or IOException) { return $"{RecordPath(index)}: unreadable ({e.Message})"; }
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
        CopyAtomically(RecordPath(index), target.RecordPath(index)); // last: it vouches for the parts copied before it
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
