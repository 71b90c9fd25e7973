using System.Globalization;
using System.Text.Json;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Design.Constraints;
using Kiago.Design.Pipeline;

namespace Kiago.Cli.Design;

/// <summary>
/// Reads --bases: a CSV with a "formula" column (optional "target" and "ox" columns for substitutions), or the
/// reference's JSON list (shared/data/experiments/reference_sample_configs/*.json: "elems" and "comp" as Python-style
/// list strings or JSON arrays; "sustitute_target" and "substitution_ox_state" for element substitution).
/// </summary>
public static class BaseListReader
{
    public static IReadOnlyList<DesignBase> Read(string path, bool substitution)
    {
        if (!File.Exists(path)) throw new UserInputException($"--bases: file not found: {path}");
        return Path.GetExtension(path).Equals(".json", StringComparison.OrdinalIgnoreCase) ? ReadJson(path, substitution) : ReadCsv(path, substitution);
    }

    public static Composition ParseFormula(string formula, string where)
    {
        if (Composition.TryParse(formula, out var c, out var error)) return c;
        throw new UserInputException($"{where}: {error!.Message}");
    }

    static IReadOnlyList<DesignBase> ReadCsv(string path, bool substitution)
    {
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        int formula = header.Require("formula");
        int target = header.Names.ToList().IndexOf("target"), ox = header.Names.ToList().IndexOf("ox");
        if (substitution && target < 0) throw new UserInputException($"{path}: substitution needs a \"target\" column");
        var list = new List<DesignBase>();
        foreach (var r in reader.ReadAll())
        {
            if (r.IsBlank) continue;
            if (r.Fields.Length != header.Names.Count)
                throw new UserInputException($"{path}: line {r.Line}: row has {r.Fields.Length} fields; the header has {header.Names.Count}");
            string where = $"{path}: line {r.Line}, column \"formula\"";
            var text = r.Fields[formula].Trim();
            SubstitutionTarget? sub = null;
            if (substitution)
            {
                int? state = null;
                if (ox >= 0 && r.Fields[ox].Trim().Length > 0)
                    state = int.TryParse(r.Fields[ox].Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int s) ? s
                        : throw new UserInputException($"{path}: line {r.Line}, column \"ox\": '{r.Fields[ox]}' is not an integer");
                sub = new SubstitutionTarget(r.Fields[target].Trim(), state);
            }
            list.Add(new DesignBase(text, ParseFormula(text, where), sub));
        }
        if (list.Count == 0) throw new UserInputException($"--bases {path}: no rows below the header");
        return list;
    }

    static IReadOnlyList<DesignBase> ReadJson(string path, bool substitution)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw new UserInputException($"{path}: not valid JSON: {e.Message}"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new UserInputException($"{path}: expected a JSON list of bases");
            var list = new List<DesignBase>();
            int i = 0;
            foreach (var entry in doc.RootElement.EnumerateArray())
            {
                string where = $"{path}: entry {i++}";
                if (entry.ValueKind != JsonValueKind.Object) throw new UserInputException($"{where}: expected an object, found {entry.ValueKind}");
                var elems = StringList(entry, "elems", where);
                var comp = StringList(entry, "comp", where).Select(s =>
                    double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                        : throw new UserInputException($"{where}: \"comp\" value '{s}' is not a number")).ToList();
                if (elems.Count != comp.Count || elems.Count == 0)
                    throw new UserInputException($"{where}: \"elems\" has {elems.Count} entries but \"comp\" has {comp.Count}");
                var formula = string.Concat(elems.Zip(comp, (e, c) => e + c.ToString("R", CultureInfo.InvariantCulture)));
                SubstitutionTarget? sub = null;
                if (substitution)
                {
                    if (!entry.TryGetProperty("sustitute_target", out var t) || t.ValueKind != JsonValueKind.String || t.GetString() is not { } target)
                        throw new UserInputException($"{where}: substitution needs \"sustitute_target\" (an element symbol)");
                    int? ox = null;
                    if (entry.TryGetProperty("substitution_ox_state", out var o) && o.ValueKind != JsonValueKind.Null)
                        ox = o.ValueKind == JsonValueKind.Number && o.TryGetInt32(out int state) ? state
                            : throw new UserInputException($"{where}: \"substitution_ox_state\" {o.GetRawText()} is not an integer");
                    sub = new SubstitutionTarget(target, ox);
                }
                list.Add(new DesignBase(formula, ParseFormula(formula, where), sub));
            }
            if (list.Count == 0) throw new UserInputException($"{path}: the list is empty");
            return list;
        }
    }

    /// <summary>A JSON array of strings/numbers, or the reference's Python-literal list string "['Bi', 'Ca']".</summary>
    static List<string> StringList(JsonElement entry, string name, string where)
    {
        if (!entry.TryGetProperty(name, out var v)) throw new UserInputException($"{where}: missing \"{name}\"");
        if (v.ValueKind == JsonValueKind.Array) return v.EnumerateArray().Select(e => e.ToString()).ToList();
        if (v.ValueKind != JsonValueKind.String) throw new UserInputException($"{where}: \"{name}\" must be a list");
        var s = v.GetString()!.Trim();
        if (!s.StartsWith('[') || !s.EndsWith(']')) throw new UserInputException($"{where}: \"{name}\" '{s}' is not a list");
        return s[1..^1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(x => x.Trim('\'', '"')).ToList();
    }
}
