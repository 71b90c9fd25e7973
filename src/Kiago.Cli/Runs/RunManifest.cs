using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Kiago.Cli.IO;

namespace Kiago.Cli.Runs;

/// <summary>
/// manifest.json of a run folder: provenance (tool version, command, canonical arguments, seed, device, weights with
/// SHA-256), the base list, the shard and the bases this run owns, progress (completed bases, state) and timings
/// (total and per base). Written atomically after every base; read by --resume and by <c>kiago merge</c>.
/// </summary>
public sealed record RunManifest
{
    public const string File = "manifest.json";

    public required string Command { get; init; }
    public required IReadOnlyList<KeyValuePair<string, string>> Arguments { get; init; }
    public long Seed { get; init; }
    public string Device { get; init; } = "";
    public string Screening { get; init; } = "";
    public IReadOnlyList<KeyValuePair<string, string>> Weights { get; init; } = [];
    public required IReadOnlyList<string> Bases { get; init; }
    public Shard Shard { get; init; } = Shard.Whole;
    public required IReadOnlyList<int> Owned { get; init; }
    public IReadOnlyList<int> Completed { get; init; } = [];
    public string State { get; init; } = "running";
    public string Started { get; init; } = "";
    public double TotalSeconds { get; init; }
    public IReadOnlyDictionary<int, double> BaseSeconds { get; init; } = new Dictionary<int, double>();
    /// <summary>Further per-base timings by name (e.g. novelty_seconds), written under "timings" beside base_seconds.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<int, double>> Timings { get; init; } = new Dictionary<string, IReadOnlyDictionary<int, double>>();
    /// <summary>Set on a merged folder: the run folders it was assembled from.</summary>
    public IReadOnlyList<string> MergedFrom { get; init; } = [];

    public static RunManifest For(RunRequest request, string started) => new()
    {
        Command = request.Command, Arguments = request.Arguments, Seed = request.Seed, Device = request.Device,
        Screening = request.Screening, Weights = request.Weights, Bases = request.Bases, Shard = request.Shard,
        Owned = request.Owned, Started = started,
    };

    /// <summary>The SHA-256 of a weights entry ("path sha256:HEX"), or the whole entry where it has none (random models).</summary>
    public static string WeightsIdentity(string entry)
    {
        int at = entry.LastIndexOf("sha256:", StringComparison.Ordinal);
        return at < 0 ? entry : entry[at..];
    }

    /// <summary>A weights entry for the manifest: "FULLPATH sha256:HEX", or "none" without a model.</summary>
    public static KeyValuePair<string, string> WeightsEntry(string key, string? path)
    {
        if (path is null) return new(key, "none");
        return new(key, $"{Path.GetFullPath(path)} sha256:{Kiago.Nets.FileChecksum.Sha256Hex(path)}");
    }

    public void Write(string path)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("tool", "kiago");
            w.WriteString("version", typeof(RunManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?");
            w.WriteString("command", Command);
            w.WriteStartObject("arguments");
            foreach (var (k, v) in Arguments) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteNumber("seed", Seed);
            w.WriteString("device", Device);
            w.WriteString("screening", Screening);
            w.WriteStartObject("weights");
            foreach (var (k, v) in Weights) w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteStartArray("bases");
            foreach (var b in Bases) w.WriteStringValue(b);
            w.WriteEndArray();
            w.WriteString("shard", Shard.ToString());
            w.WriteStartArray("owned_bases");
            foreach (int i in Owned) w.WriteNumberValue(i);
            w.WriteEndArray();
            w.WriteStartArray("completed_bases");
            foreach (int i in Completed) w.WriteNumberValue(i);
            w.WriteEndArray();
            if (MergedFrom.Count > 0)
            {
                w.WriteStartArray("merged_from");
                foreach (var d in MergedFrom) w.WriteStringValue(d);
                w.WriteEndArray();
            }
            w.WriteString("state", State);
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("host", Environment.MachineName);
            w.WriteString("started_utc", Started);
            w.WriteString("updated_utc", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            w.WriteString("machine", Machine());
            w.WriteStartObject("timings");
            w.WriteNumber("total_seconds", TotalSeconds);
            w.WriteStartObject("base_seconds");
            foreach (var (i, s) in BaseSeconds.OrderBy(p => p.Key)) w.WriteNumber(i.ToString(CultureInfo.InvariantCulture), s);
            w.WriteEndObject();
            foreach (var (name, values) in Timings.OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject(name);
                foreach (var (i, s) in values.OrderBy(p => p.Key)) w.WriteNumber(i.ToString(CultureInfo.InvariantCulture), s);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteNumber("peak_working_set_bytes", Process.GetCurrentProcess().PeakWorkingSet64);
            w.WriteNumber("managed_heap_bytes", GC.GetTotalMemory(false));
            w.WriteEndObject();
        }
        AtomicFile.Write(path, tw => tw.Write(Encoding.UTF8.GetString(stream.ToArray()) + "\n"));
    }

    /// <summary>", state running, written by PID 123 on host h" for the refusal message; empty when unreadable.</summary>
    public static string PreviousRun(string manifestPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(manifestPath));
            var root = doc.RootElement;
            string state = root.TryGetProperty("state", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "?";
            string who = root.TryGetProperty("pid", out var p) && p.TryGetInt64(out long pid) && root.TryGetProperty("host", out var h)
                ? $", written by PID {pid} on host {h}" : "";
            // the caller holds the folder's lock, so a run the manifest calls running is no longer running
            return $", state {state}{who}{(state == "running" ? ", which stopped without finishing" : "")}";
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return "";
        }
    }

    /// <summary>Reads a manifest; anything malformed is a user error naming the file (after <paramref name="context"/>).</summary>
    public static RunManifest Read(string path, string context = "")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new UserInputException($"{context}{path} is not valid JSON ({e.Message})"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UserInputException($"{context}{path}: cannot read: {e.Message}"); }
        using (doc)
        try
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new UserInputException($"{path}: not a run manifest (no JSON object)");
            string Str(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            List<KeyValuePair<string, string>> Pairs(string name)
            {
                if (!root.TryGetProperty(name, out var o) || o.ValueKind != JsonValueKind.Object)
                    throw new UserInputException($"{path} has no '{name}' object");
                return [.. o.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))];
            }
            List<int> Ints(string name)
            {
                if (!root.TryGetProperty(name, out var a) || a.ValueKind != JsonValueKind.Array) return [];
                return [.. a.EnumerateArray().Select(e => e.TryGetInt32(out int i) ? i : throw new UserInputException($"{path}: '{name}' holds {e.GetRawText()}, not a base index"))];
            }
            if (!root.TryGetProperty("bases", out var basesElement) || basesElement.ValueKind != JsonValueKind.Array)
                throw new UserInputException($"{path} has no 'bases' list");
            var bases = basesElement.EnumerateArray().Select(e => e.GetString() ?? "").ToList();
            var shard = root.TryGetProperty("shard", out var sh) && sh.ValueKind == JsonValueKind.String ? Shard.Parse(sh.GetString(), $"{path}: shard") : Shard.Whole;
            var owned = root.TryGetProperty("owned_bases", out _) ? Ints("owned_bases") : [.. Enumerable.Range(0, bases.Count)];
            var completed = Ints("completed_bases");
            foreach (int i in owned.Concat(completed))
                if (i < 0 || i >= bases.Count) throw new UserInputException($"{path} lists base {i}, but the run has {bases.Count} bases");
            double total = 0;
            var perBase = new Dictionary<string, IReadOnlyDictionary<int, double>>(StringComparer.Ordinal);
            if (root.TryGetProperty("timings", out var t) && t.ValueKind == JsonValueKind.Object)
            {
                if (t.TryGetProperty("total_seconds", out var ts) && ts.TryGetDouble(out double tv)) total = tv;
                foreach (var timing in t.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
                {
                    var values = new Dictionary<int, double>();
                    foreach (var p in timing.Value.EnumerateObject())
                        if (int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int i) && p.Value.TryGetDouble(out double s)) values[i] = s;
                    perBase[timing.Name] = values;
                }
            }
            var baseSeconds = perBase.Remove("base_seconds", out var b) ? b : new Dictionary<int, double>();
            return new RunManifest
            {
                Command = Str("command"), Arguments = Pairs("arguments"),
                Seed = root.TryGetProperty("seed", out var seed) && seed.TryGetInt64(out long sv) ? sv : 0,
                Device = Str("device"), Screening = Str("screening"), Weights = Pairs("weights"), Bases = bases,
                Shard = shard, Owned = owned, Completed = completed, State = Str("state"), Started = Str("started_utc"),
                TotalSeconds = total, BaseSeconds = baseSeconds, Timings = perBase,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException or OverflowException)
        {
            // valid JSON of the wrong shape (a value of the wrong type, a missing key): the manifest was edited or damaged
            throw new UserInputException($"{context}{path} is not a Kiago run manifest ({e.Message})", e);
        }
    }

    /// <summary>"N cores, OS, load 1.23 4.56 7.89" (load from /proc/loadavg where it exists).</summary>
    public static string Machine()
    {
        var sb = new StringBuilder($"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}");
        try
        {
            if (System.IO.File.Exists("/proc/loadavg"))
                sb.Append(", load ").Append(string.Join(' ', System.IO.File.ReadAllText("/proc/loadavg").Split(' ').Take(3)));
        }
        catch (IOException) { /* load is informational */ }
        return sb.ToString();
    }
}
