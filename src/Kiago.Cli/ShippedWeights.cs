using System.CommandLine;

namespace Kiago.Cli;

/// <summary>
/// The default models (<see cref="ModelOptions.DefaultTcModel"/>, <see cref="ModelOptions.DefaultEfModel"/>) shipped in weights/ beside the kiago binary (build output, dotnet tool, single-file publish).
/// A default resolves relative to the tool, so `kiago optimise` finds them from any directory; a path the user gives
/// (--tc-model FILE) is theirs, relative to the current directory as usual.
/// </summary>
internal static class ShippedWeights
{
    /// <summary>Where a shipped default lies: beside the binary when present there, else as written (a source checkout's root).</summary>
    public static string Locate(string shipped)
    {
        var beside = Path.Combine(AppContext.BaseDirectory, shipped);
        return File.Exists(beside) ? beside : shipped;
    }

    /// <summary>The option's value; a value that came from the default (not typed) is located beside the binary.</summary>
    public static string Resolve(ParseResult parse, Option<string?> option)
    {
        string value = parse.GetValue(option)!;
        bool typed = parse.GetResult(option) is { Implicit: false };
        return typed ? value : Locate(value);
    }
}
