using Kiago.Cli;

// Thin entry point: each command lives in its own file and is registered in CommandCatalog.cs.
return CliRunner.Run(KiagoRoot.Create(), args);
