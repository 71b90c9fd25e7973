using BenchmarkDotNet.Running;

// `dotnet run -c Release --project bench/Kiago.Bench -- --filter '*Nets*'` runs BenchmarkDotNet suites;
// `... -- nets-parity` prints the ResNet18/ElemNet parity table (docs/MODELS.md) from training/exports.
if (args is ["nets-parity", ..])
    return Kiago.Bench.NetsParity.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Kiago.Bench.NetsParity).Assembly).Run(args);
return 0;
