using System.CommandLine;
using System.Diagnostics;
using Kiago.Autodiff;
using Kiago.Nets.Architectures;
using Kiago.Nets.Graph;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Cli;

/// <summary>
/// `kiago bench`: quick engine figures on this machine: GEMM GFLOP/s, each ResNet18 stage and the whole ResNet18
/// and ElemNet (forward + input backward, random weights) in ms/sample. GFLOP/s count dense (unpruned) FLOPs,
/// the convention of the PyTorch peer (bench/peer/torch_models.py), so the two are comparable.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var batches = new Option<string>("--batch") { Description = "comma-separated batch sizes for the model benchmarks (ResNet18 stages: the largest)", DefaultValueFactory = _ => "256,1024" };
        var only = new Option<string>("--only") { Description = "gemm | stages | resnet | elemnet | all", DefaultValueFactory = _ => "all" };
        var repeats = new Option<int>("--repeats") { Description = "timed repetitions per case (best and median reported)", DefaultValueFactory = _ => 5 };
        var command = new Command("bench", "Time the compute engine (GEMM, ResNet18 stages, ResNet18, ElemNet) with random weights.")
        {
            batches, only, repeats,
        };
        var compute = ComputeOptions.AddTo(command);
        command.SetAction(parse =>
        {
            int repeatCount = parse.GetValue(repeats);
            if (repeatCount < 1) throw new UserInputException($"--repeats must be >= 1, got {repeatCount}");
            var batchList = ParseBatches(parse.GetValue(batches)!);
            string what = parse.GetValue(only)!.ToLowerInvariant();
            if (what is not ("gemm" or "stages" or "resnet" or "elemnet" or "all"))
                throw new UserInputException($"--only must be gemm, stages, resnet, elemnet or all, got '{what}'");
            using var backend = compute.CreateBackend(parse);
            Run(backend, batchList, what, repeatCount, parse.InvocationConfiguration.Output);
            return ExitCodes.Ok;
        });
        return command;
    }

    static int[] ParseBatches(string text)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out result[i]) || result[i] < 1)
                throw new UserInputException($"--batch: '{parts[i]}' is not a positive integer (in '{text}')");
        return result.Length > 0 ? result : throw new UserInputException("--batch: no batch size given");
    }

    public static void Run(IBackend backend, int[] batches, string what, int repeats, TextWriter output)
    {
        output.WriteLine($"device: {backend.DeviceName}");
        if (backend is Kiago.Kernels.Ilgpu.IlgpuBackend ilgpu)
        {
            output.WriteLine($"gemm kernel: {ilgpu.GemmMode.ToString().ToLowerInvariant()} ({Kiago.Kernels.Ilgpu.IlgpuBackend.GemmEnvironmentVariable})");
            output.WriteLine($"tiling: {ilgpu.Tiling}");
        }
        output.WriteLine($"date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, load: {LoadAverage()}");
        output.WriteLine("GFLOP/s count dense FLOPs (padding taps included) for models: fwd+bwd = 2 x forward.");
        if (what is "gemm" or "all")
        {
            Gemm(backend, 4096, 512, 576, repeats, output);
            Gemm(backend, 65536, 64, 576, repeats, output);
        }
        if (what is "stages" or "all")
        {
            foreach (var stage in RandomArchitectures.ResNet18().Stages)
            {
                using var net = new GraphExecutor(stage.Graph, backend);
                Model(backend, $"resnet18 {stage.Name}", stage.InputShape, batches.Max(), stage.MacsPerSample, repeats, output, net.Run);
            }
        }
        if (what is "resnet" or "all")
        {
            var resnet = RandomArchitectures.ResNet18();
            using var net = new GraphExecutor(resnet.Graph, backend);
            foreach (int batch in batches)
                Model(backend, "resnet18 4x7x32", resnet.InputShape, batch, resnet.MacsPerSample, repeats, output, net.Run);
        }
        if (what is "elemnet" or "all")
        {
            var elemnet = RandomArchitectures.ElemNet();
            using var net = new GraphExecutor(elemnet.Graph, backend);
            foreach (int batch in batches)
                Model(backend, "elemnet 86", elemnet.InputShape, batch, elemnet.MacsPerSample, repeats, output, net.Run);
        }
    }

    static void Gemm(IBackend backend, int m, int n, int k, int repeats, TextWriter output)
    {
        var rng = new Random(1);
        using var a = Random(backend, (long)m * k, rng);
        using var b = Random(backend, (long)k * n, rng);
        using var c = backend.Allocate<float>((long)m * n);
        var times = Time(repeats, () => { backend.Gemm(m, n, k, a, false, b, false, c); backend.Synchronize(); });
        double flops = 2.0 * m * n * k;
        output.WriteLine($"gemm {m}x{n}x{k}: best {times.Best * 1e3:F2} ms ({flops / times.Best / 1e9:F1} GFLOP/s), median {times.Median * 1e3:F2} ms ({flops / times.Median / 1e9:F1} GFLOP/s)");
    }

    static void Model(IBackend backend, string name, int[] inputShape, int batch, long macsPerSample, int repeats, TextWriter output,
        Func<Tape, Tensor, Tensor> forward)
    {
        int[] shape = [batch, .. inputShape];
        long length = shape.Aggregate(1L, (p, d) => p * d);
        using var x = Random(backend, length, new Random(2));
        using var tape = new Tape(backend);
        void Step()
        {
            var leaf = tape.Leaf(x, shape, requiresGrad: true);
            tape.Backward(forward(tape, leaf));
            backend.Synchronize();
            tape.Reset();
        }
        Step(); // warm-up: pools fill, lifetime plan learned over two identical steps
        Step();
        var times = Time(repeats, Step);
        double flops = 4.0 * macsPerSample * batch;
        output.WriteLine($"{name} fwd+bwd(input) batch {batch}: best {times.Best * 1e3 / batch:F4} ms/sample " +
            $"({flops / times.Best / 1e9:F1} GFLOP/s), median {times.Median * 1e3 / batch:F4} ms/sample, step {times.Median * 1e3:F1} ms");
    }

    static DeviceBuffer<float> Random(IBackend backend, long length, Random rng)
    {
        var host = new float[length];
        for (long i = 0; i < length; i++) host[i] = (float)(rng.NextDouble() * 2 - 1);
        var buffer = backend.Allocate<float>(length);
        backend.Upload<float>(host, buffer);
        return buffer;
    }

    static (double Best, double Median) Time(int repeats, Action action)
    {
        action();
        var seconds = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            action();
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(seconds);
        return (seconds[0], seconds[repeats / 2]);
    }

    static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }
}
