using System.CommandLine;
using Kiago.Cli.Runs;

namespace Kiago.Cli;

/// <summary><c>kiago merge RUN_DIR... --out DIR</c>: the shards of one run (--shard I/N) → the unsharded run's folder.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var dirs = new Argument<string[]>("RUN_DIR") { Description = "The run folders of the shards (each complete)", Arity = ArgumentArity.OneOrMore };
        var outDir = OutputOptions.Folder("New folder for the merged run (must not exist, or be empty)", required: true);
        var command = new Command("merge", "Merge the folders of a sharded run (--shard I/N) into the folder the unsharded run writes, byte for byte")
        {
            dirs, outDir,
        };
        command.SetAction(r =>
        {
            var result = RunMerger.Merge(r.GetRequiredValue(dirs), r.GetRequiredValue(outDir)!);
            r.InvocationConfiguration.Error.WriteLine($"kiago: merged {result.Bases} bases from {result.Folders} folders → {r.GetRequiredValue(outDir)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
