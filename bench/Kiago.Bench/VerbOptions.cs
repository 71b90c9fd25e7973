using System.Globalization;

namespace Kiago.Bench;

/// <summary>The bench verbs' `--name value` pairs: each option a setter; an unknown name or a missing value is an error naming it.</summary>
static class VerbOptions
{
    public static void Parse(string[] args, IReadOnlyDictionary<string, Action<string>> options)
    {
        for (int i = 0; i < args.Length; i += 2)
        {
            string v = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]}: missing value");
            if (!options.TryGetValue(args[i], out var set))
                throw new ArgumentException($"unknown option {args[i]} (known: {string.Join(", ", options.Keys)})");
            set(v);
        }
    }

    public static int Int(string v) => int.Parse(v, CultureInfo.InvariantCulture);
}
