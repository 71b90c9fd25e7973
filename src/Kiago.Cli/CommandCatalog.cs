using System.CommandLine;

namespace Kiago.Cli;

/// <summary>The list of `kiago` subcommands. Add one line per command.</summary>
internal static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return ParseCommand.Create();
        yield return ScreenCommand.Create();
        yield return BenchCommand.Create();
        yield return CheckDeviceCommand.Create();
        yield return ReportCommand.Create();
        yield return ConvertCommand.Create();
        yield return PredictCommand.Create();
        yield return InspectCommand.Create();
        yield return EvaluateModelCommand.Create();
        yield return CalibrateCommand.Create();
        yield return BaselineCommand.Create();
        yield return ExperimentCommand.Create();
        yield return HullCommand.Create();
        yield return OptimiseCommand.Create();
        yield return SubstituteCommand.Create();
        yield return HydrideCommand.Create();
        yield return MergeCommand.Create();
    }
}
