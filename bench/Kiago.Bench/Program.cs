using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Kiago.Bench -- --filter '*'   (or e.g. --filter '*Gemm*')
BenchmarkSwitcher.FromAssembly(typeof(Kiago.Bench.GemmBench).Assembly).Run(args);
