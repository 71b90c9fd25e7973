using System.CommandLine;
using Kiago.Cli;

// Thin entry point: each command lives in its own file and is registered here.
var root = new RootCommand("Kiago: gradient-based design of superconductor compositions (KIAGO) on CPU or CUDA.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return CliRunner.Run(root, args);
