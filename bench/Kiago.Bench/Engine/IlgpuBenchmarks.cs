using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Bench.Engine;

/// <summary>
/// Which accelerator the ILGPU benchmarks use: <c>KIAGO_BENCH_DEVICE=cuda|ilgpu-cpu</c>, default CUDA when present.
/// On the CPU accelerator only tiny shapes run (it is a correctness backend, ~1–3 GFLOP/s).
/// </summary>
static class BenchDevice
{
    static readonly Lazy<bool> IsCudaDevice = new(() =>
    {
        var wanted = Environment.GetEnvironmentVariable("KIAGO_BENCH_DEVICE") ?? "auto";
        if (wanted == "ilgpu-cpu") return false;
        using var cuda = IlgpuBackend.TryCreateCuda(out var reason);
        if (cuda is null && wanted == "cuda") throw new NoCudaDeviceException(reason);
        return cuda is not null;
    });

    public static bool IsCuda => IsCudaDevice.Value;

    public static IlgpuBackend Create()
    {
        var backend = IsCuda ? IlgpuBackend.CreateCuda() : IlgpuBackend.CreateCpu();
        Console.WriteLine($"// ILGPU benchmark device: {backend.DeviceName}");
        return backend;
    }
}

/// <summary>Short in-process runs (works with the .NET runtime alone, e.g. on a GPU machine without the SDK) plus GFLOP/s.</summary>
sealed class EngineBenchConfig : ManualConfig
{
    public EngineBenchConfig()
    {
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
        AddColumnProvider(DefaultColumnProviders.Instance);
        AddColumn(new GflopsColumn());
        AddLogger(ConsoleLogger.Default);
        WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
    }
}

/// <summary>Benchmarks that know their floating-point work per invocation.</summary>
interface IFlopCount
{
    double Flops(string method);
}

/// <summary>GFLOP/s = FLOPs per invocation / mean time (convolutions count dense taps, padding included, as PyTorch).</summary>
sealed class GflopsColumn : IColumn
{
    public string Id => "GFLOPs";
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "FLOPs per call / mean time, in 1e9 per second";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var stats = summary[benchmarkCase]?.ResultStatistics;
        if (stats is null) return "-";
        var instance = (IFlopCount)Activator.CreateInstance(benchmarkCase.Descriptor.Type)!;
        foreach (var p in benchmarkCase.Parameters.Items)
            benchmarkCase.Descriptor.Type.GetProperty(p.Name)?.SetValue(instance, p.Value);
        double flops = instance.Flops(benchmarkCase.Descriptor.WorkloadMethod.Name);
        return (flops / stats.Mean).ToString("F1"); // FLOP per ns = GFLOP/s
    }
}

/// <summary>Register-blocked GEMM, C = A·B, row-major (issue 3 shapes on CUDA).</summary>
[Config(typeof(EngineBenchConfig))]
public class IlgpuGemmBenchmarks : IFlopCount
{
    IlgpuBackend? backend;
    DeviceBuffer<float>? a, b, c;

    public static IEnumerable<string> Shapes() => BenchDevice.IsCuda ? ["4096x512x576", "65536x64x576"] : ["64x64x64"];

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "64x64x64";

    (int M, int N, int K) Dims => Shape.Split('x').Select(int.Parse).ToArray() switch { var d => (d[0], d[1], d[2]) };

    public double Flops(string method) => 2.0 * Dims.M * Dims.N * Dims.K;

    [GlobalSetup]
    public void Setup()
    {
        backend = BenchDevice.Create();
        var (m, n, k) = Dims;
        a = Random(backend, (long)m * k, 1);
        b = Random(backend, (long)k * n, 2);
        c = backend.Allocate<float>((long)m * n);
    }

    [Benchmark]
    public void Gemm()
    {
        var (m, n, k) = Dims;
        backend!.Gemm(m, n, k, a!, false, b!, false, c!);
        backend.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        a?.Dispose(); b?.Dispose(); c?.Dispose();
        backend?.Dispose();
    }

    internal static DeviceBuffer<float> Random(IBackend backend, long count, int seed)
    {
        var rng = new Random(seed);
        var host = new float[count];
        for (long i = 0; i < count; i++) host[i] = (float)(2 * rng.NextDouble() - 1);
        var buffer = backend.Allocate<float>(count);
        backend.Upload<float>(host, buffer);
        return buffer;
    }
}

/// <summary>One ResNet18 convolution at the 4×7×32 input's map sizes: forward (fused ReLU) and input gradient.</summary>
[Config(typeof(EngineBenchConfig))]
public class IlgpuConvBenchmarks : IFlopCount
{
    static readonly Dictionary<string, Conv2dSpec> Layers = new()
    {
        ["stem7x7s2-4to64-7x32"] = new Conv2dSpec(4, 7, 32, 64, 7, 7, 2, 2, 3, 3, 3, 3),
        ["stage1-3x3-64to64-2x8"] = new Conv2dSpec(64, 2, 8, 64, 3, 3, 1, 1, 1, 1, 1, 1),
        ["stage2-3x3s2-64to128-2x8"] = new Conv2dSpec(64, 2, 8, 128, 3, 3, 2, 2, 1, 1, 1, 1),
        ["stage4-3x3-512to512-1x1"] = new Conv2dSpec(512, 1, 1, 512, 3, 3, 1, 1, 1, 1, 1, 1),
    };

    IlgpuBackend? backend;
    IConv2d? conv;
    DeviceBuffer<float>? x, y, dy, dx;

    public static IEnumerable<string> Cases() => BenchDevice.IsCuda
        ? Layers.Keys.Select(k => $"{k}@4096")
        : ["stage1-3x3-64to64-2x8@2"];

    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "stage1-3x3-64to64-2x8@2";

    Conv2dSpec Spec => Layers[Case.Split('@')[0]];
    int Batch => int.Parse(Case.Split('@')[1]);

    public double Flops(string method) =>
        2.0 * Batch * Spec.OutSize * (Spec.InChannels / Spec.Groups) * Spec.KernelHeight * Spec.KernelWidth;

    [GlobalSetup]
    public void Setup()
    {
        backend = BenchDevice.Create();
        var s = Spec;
        var rng = new Random(3);
        var w = Enumerable.Range(0, s.WeightCount).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray();
        conv = backend.PrepareConv2d(s, w, new float[s.OutChannels]);
        x = IlgpuGemmBenchmarks.Random(backend, (long)Batch * s.InSize, 4);
        dy = IlgpuGemmBenchmarks.Random(backend, (long)Batch * s.OutSize, 5);
        y = backend.Allocate<float>((long)Batch * s.OutSize);
        dx = backend.Allocate<float>((long)Batch * s.InSize);
    }

    [Benchmark]
    public void Forward()
    {
        conv!.Forward(Batch, x!, y!, fuseRelu: true);
        backend!.Synchronize();
    }

    [Benchmark]
    public void BackwardInput()
    {
        conv!.BackwardInput(Batch, dy!, dx!);
        backend!.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        x?.Dispose(); y?.Dispose(); dy?.Dispose(); dx?.Dispose();
        conv?.Dispose();
        backend?.Dispose();
    }
}
