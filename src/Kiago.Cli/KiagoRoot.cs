using System.CommandLine;

namespace Kiago.Cli;

/// <summary>Builds the `kiago` root command with every command from <see cref="CommandCatalog"/> (tests build it too).</summary>
internal static class KiagoRoot
{
    public static RootCommand Create()
    {
        var root = new RootCommand("Kiago: gradient-based design of superconductor compositions (KIAGO) on CPU or CUDA.");
        foreach (var command in CommandCatalog.All())
            root.Subcommands.Add(command);
        return root;
    }
}
