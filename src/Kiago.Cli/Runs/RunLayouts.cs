using Kiago.Cli.Design;
using Kiago.Cli.Eval;

namespace Kiago.Cli.Runs;

/// <summary>Which <see cref="RunLayout"/> a run folder has, from the command (and arguments) in its manifest.</summary>
public static class RunLayouts
{
    public static RunLayout For(string command, IReadOnlyList<KeyValuePair<string, string>> arguments, string dir) => command switch
    {
        "optimise" or "substitute" or "hydride" => DesignLayout.For(arguments.Any(a => a.Key == "hull_reference"),
            arguments.FirstOrDefault(a => a.Key == DesignCommand.ObjectiveColumnsArgument).Value?.Split(',') ?? []),
        "baseline ces" => CesLayout.Layout,
        "baseline superdiff" => SuperDiffLayout.Layout,
        _ when command.StartsWith("experiment ", StringComparison.Ordinal) => ExperimentLayout.For(command, ExperimentLayout.HasSuperDiff(arguments)),
        _ => throw new UserInputException($"merge: {dir}: a '{command}' run has no per-base parts to merge (merge takes optimise, substitute, hydride, baseline ces, baseline superdiff and experiment runs)"),
    };
}
