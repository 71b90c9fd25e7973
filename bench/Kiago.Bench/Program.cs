using BenchmarkDotNet.Running;

// Run one area: dotnet run -c Release --project bench/Kiago.Bench -- --filter '*Screening*' --job short
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
