using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kiago.Chemistry;

namespace Kiago.Design.Experiments;

/// <summary>
/// Reads the reference's base-material JSON (shared/data/experiments/*/*.json): a list of objects whose
/// <c>elems</c>, <c>comp</c> and <c>remain_atom_dict</c> are Python literals written as strings
/// (<c>"['Ba', 'Cu']"</c>, <c>"[2.0, 3.0]"</c>, <c>"{'Ba': 2.0}"</c>). The substitution spec is read when
/// <c>sustitute_target</c> (sic) is present.
/// </summary>
public static partial class BaseMaterialList
{
    public static IReadOnlyList<BaseMaterial> ReadJson(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BaseListException($"{path}: cannot open: {e.Message}");
        }
        return ParseJson(text, path);
    }

    public static IReadOnlyList<BaseMaterial> ParseJson(string json, string source)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e)
        {
            throw new BaseListException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new BaseListException($"{source}: expected a JSON list of base materials, found {doc.RootElement.ValueKind}");
            var list = new List<BaseMaterial>();
            int index = 0;
            foreach (var entry in doc.RootElement.EnumerateArray())
                list.Add(ParseEntry(entry, $"{source}: entry {index++}"));
            if (list.Count == 0) throw new BaseListException($"{source}: the list holds no base materials");
            return list;
        }
    }

    static BaseMaterial ParseEntry(JsonElement entry, string where)
    {
        if (entry.ValueKind != JsonValueKind.Object) throw new BaseListException($"{where}: expected an object");
        var symbols = QuotedItems().Matches(RequireString(entry, "elems", where)).Select(m => m.Groups[1].Value).ToArray();
        var amounts = ParseNumbers(RequireString(entry, "comp", where), where, "comp");
        if (symbols.Length == 0) throw new BaseListException($"{where}: field \"elems\" lists no elements");
        if (symbols.Length != amounts.Length)
            throw new BaseListException($"{where}: \"elems\" has {symbols.Length} elements but \"comp\" has {amounts.Length} amounts");
        var terms = symbols.Select((s, i) => KeyValuePair.Create(Lookup(s, where, "elems"), amounts[i]));
        Composition composition;
        try { composition = Composition.FromAmounts(terms); }
        catch (ArgumentException e) { throw new BaseListException($"{where}: bad amount in \"comp\": {e.Message}"); }

        SubstitutionSpec? substitution = null;
        if (entry.TryGetProperty("sustitute_target", out var target) && target.ValueKind == JsonValueKind.String)
        {
            var targetElement = Lookup(target.GetString()!, where, "sustitute_target");
            int ox = RequireNumber(entry, "substitution_ox_state", where) is var o && o == Math.Round(o) && Math.Abs(o) <= 16 ? (int)o
                : throw new BaseListException($"{where}: \"substitution_ox_state\" must be an integer (-16..16)");
            double val = RequireNumber(entry, "val_of_atom", where);
            var remaining = ParseDict(RequireString(entry, "remain_atom_dict", where), where);
            if (remaining.Contains(targetElement))
                throw new BaseListException($"{where}: \"remain_atom_dict\" contains the substitution target {targetElement}");
            substitution = new SubstitutionSpec(targetElement, ox, val, remaining);
        }
        double? tc = entry.TryGetProperty("Tc", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetDouble() : null;
        return new BaseMaterial(composition.ToFormulaString(), composition, substitution, tc);
    }

    static Composition ParseDict(string text, string where)
    {
        var pairs = DictItems().Matches(text);
        if (pairs.Count == 0) throw new BaseListException($"{where}: \"remain_atom_dict\" holds no 'El': amount pairs");
        var terms = pairs.Select(m => KeyValuePair.Create(Lookup(m.Groups[1].Value, where, "remain_atom_dict"),
            double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) ? amount
                : throw new BaseListException($"{where}: \"remain_atom_dict\" amount \"{m.Groups[2].Value}\" is not a number")));
        try { return Composition.FromAmounts(terms); }
        catch (ArgumentException e) { throw new BaseListException($"{where}: bad amount in \"remain_atom_dict\": {e.Message}"); }
    }

    static double[] ParseNumbers(string text, string where, string field)
    {
        var trimmed = text.Trim().TrimStart('[').TrimEnd(']');
        if (trimmed.Trim().Length == 0) return [];
        return [.. trimmed.Split(',').Select(s => double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new BaseListException($"{where}: \"{field}\" item \"{s.Trim()}\" is not a number"))];
    }

    static Element Lookup(string symbol, string where, string field) =>
        Elements.TryGet(symbol, out var e) ? e : throw new BaseListException($"{where}: unknown element \"{symbol}\" in \"{field}\"");

    static string RequireString(JsonElement entry, string name, string where) =>
        entry.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw new BaseListException($"{where}: missing string field \"{name}\"");

    static double RequireNumber(JsonElement entry, string name, string where) =>
        entry.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble()
            : throw new BaseListException($"{where}: missing number field \"{name}\"");

    [GeneratedRegex(@"'([^']*)'")]
    private static partial Regex QuotedItems();

    [GeneratedRegex(@"'([^']*)'\s*:\s*([-+0-9.eE]+)")]
    private static partial Regex DictItems();
}
