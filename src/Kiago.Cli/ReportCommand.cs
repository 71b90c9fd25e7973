using System.CommandLine;
using Kiago.Cli.Report;

namespace Kiago.Cli;

/// <summary><c>kiago report DIR</c>: DIR/report.md with PNG figures from a run directory.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("dir") { Description = "Run directory (from kiago optimise, kiago baseline ces or kiago experiment)" };
        var top = new Option<int>("--top") { Description = "Rows in the top-candidate table", DefaultValueFactory = _ => 20 };
        var command = new Command("report", "Write DIR/report.md with plots (Tc vs Ef, Tc per step, element frequency) and a top-candidate table") { dir, top };
        command.SetAction(result =>
        {
            int n = result.GetValue(top);
            if (n < 1) throw new UserInputException($"--top must be >= 1 (got {n})");
            var files = ReportWriter.Write(result.GetRequiredValue(dir), new ReportOptions(TopCandidates: n));
            foreach (var note in files.Notes) result.InvocationConfiguration.Error.WriteLine($"kiago: note: {note}");
            result.InvocationConfiguration.Output.WriteLine(files.Markdown);
            foreach (var f in files.Figures) result.InvocationConfiguration.Output.WriteLine(f);
            return ExitCodes.Ok;
        });
        return command;
    }
}
