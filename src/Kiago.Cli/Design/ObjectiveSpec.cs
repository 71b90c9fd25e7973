using System.Globalization;
using System.Text.RegularExpressions;

namespace Kiago.Cli.Design;

/// <summary>
/// One <c>--objective NAME=FILE.kgw:WEIGHT[:maximise|minimise]</c>: the column name, the model file, the weight in the loss
/// and the direction (default minimise, as Ef). Parsed from the right, so a file name may itself contain ':'.
/// </summary>
internal sealed partial record ObjectiveSpec(string Name, string File, float Weight, bool Maximise)
{
    public override string ToString() =>
        $"{Name}={File}:{Weight.ToString("R", CultureInfo.InvariantCulture)}:{(Maximise ? "maximise" : "minimise")}";

    public static IReadOnlyList<ObjectiveSpec> ParseAll(IEnumerable<string> texts)
    {
        var list = new List<ObjectiveSpec>();
        foreach (var text in texts)
        {
            var spec = Parse(text);
            if (list.Any(o => o.Name == spec.Name))
                throw new UserInputException($"--objective {text}: the name '{spec.Name}' is given twice (each objective needs its own column)");
            list.Add(spec);
        }
        return list;
    }

    public static ObjectiveSpec Parse(string text)
    {
        UserInputException Bad(string why) => new($"--objective {text}: {why} (expected NAME=FILE.kgw:WEIGHT[:maximise|minimise], e.g. band_gap=gap.kgw:0.5:maximise)");
        int eq = text.IndexOf('=');
        if (eq <= 0) throw Bad("no NAME= before the file");
        string name = text[..eq], rest = text[(eq + 1)..];
        if (!NamePattern().IsMatch(name))
            throw Bad($"the name '{name}' must be lower-case letters, digits and '_', starting with a letter (it becomes a column of candidates.csv)");
        if (DesignTables.CandidateColumns.Contains(name) || name == DesignTables.EnergyAboveHullColumn || name.EndsWith("_sigma", StringComparison.Ordinal))
            throw Bad($"the name '{name}' is taken by a column of candidates.csv (or ends in _sigma, which names σ columns)");
        bool maximise = false;
        int last = rest.LastIndexOf(':');
        if (last > 0 && rest[(last + 1)..] is "maximise" or "maximize" or "minimise" or "minimize" or "max" or "min")
        {
            maximise = rest[(last + 1)..].StartsWith("max", StringComparison.Ordinal);
            rest = rest[..last];
            last = rest.LastIndexOf(':');
        }
        if (last <= 0) throw Bad("no :WEIGHT after the file");
        string file = rest[..last], weightText = rest[(last + 1)..];
        if (!float.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out float weight) || !float.IsFinite(weight))
            throw Bad($"the weight '{weightText}' is not a finite number");
        if (weight < 0) throw Bad($"the weight {weightText} is negative; give a positive weight and :maximise or :minimise for the direction");
        return new ObjectiveSpec(name, file, weight, maximise);
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex NamePattern();
}

/// <summary>Disposes everything added, last first.</summary>
internal sealed class DisposableList : IDisposable
{
    readonly List<IDisposable> items = [];

    public void Add(IDisposable item) => items.Add(item);

    public void Dispose()
    {
        for (int i = items.Count - 1; i >= 0; i--) items[i].Dispose();
        items.Clear();
    }
}
