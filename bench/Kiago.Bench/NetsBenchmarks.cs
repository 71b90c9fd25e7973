using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using BenchmarkDotNet.Engines;
using Kiago.Chemistry;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Bench;

/// <summary>
/// `kiago predict`'s work on 10,000 formulas (parse → fractions → batches of 1024 → Tc ResNet18 and ElemNet,
/// forward only) on 2 CPU threads, and the ONNX import of a full ResNet18. Needs training/exports
/// (export_fixtures.py --full). Target: predict &lt; 10 s, import &lt; 2 s.
/// </summary>
[Config(typeof(InProcessMonitoringConfig))]
public class NetsBenchmarks
{
    CpuBackend backend = null!;
    GraphModel tc = null!, ef = null!;
    string[] formulas = [];
    string resnetOnnx = "";

    [GlobalSetup]
    public void Setup()
    {
        backend = new CpuBackend(threads: 2);
        resnetOnnx = Path.Combine(NetsExports.Folder, "resnet18_op13.onnx");
        tc = new GraphModel(ModelConverter.Convert(resnetOnnx, new ConvertOptions(ModelKind.TcResNet)), backend);
        ef = new GraphModel(ModelConverter.Convert(Path.Combine(NetsExports.Folder, "elemnet_op13.onnx"), new ConvertOptions(ModelKind.ElemNet)), backend);
        var rng = new Random(42);
        var symbols = ElemNetLayout.Elements.Select(z => Elements.ByZ(z).Symbol).ToArray();
        formulas = Enumerable.Range(0, 10_000).Select(_ =>
            string.Concat(symbols.OrderBy(_ => rng.Next()).Take(rng.Next(2, 6)).Select(s => s + rng.Next(1, 10)))).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        tc.Dispose();
        ef.Dispose();
        backend.Dispose();
    }

    [Benchmark(Description = "predict 10,000 formulas (Tc + Ef, batch 1024, 2 threads)")]
    public float Predict10k()
    {
        const int batch = 1024;
        using var x = backend.Allocate<float>(batch * 118L);
        using var y = backend.Allocate<float>(batch);
        var host = new float[batch * 118];
        var result = new float[batch];
        float checksum = 0;
        for (int start = 0; start < formulas.Length; start += batch)
        {
            int n = Math.Min(batch, formulas.Length - start);
            for (int i = 0; i < n; i++) Composition.Parse(formulas[start + i]).WriteFractions(host.AsSpan(i * 118, 118));
            backend.Upload<float>(host.AsSpan(0, n * 118), x);
            foreach (var model in new[] { tc, ef })
            {
                model.Forward(n, x, y);
                backend.Download(y, result.AsSpan(0, n));
                checksum += result[0];
            }
        }
        return checksum;
    }

    [Benchmark(Description = "import ResNet18 ONNX (read + fold + IR)")]
    public int ImportResNet18() => OnnxImporter.Import(resnetOnnx).Nodes.Count;
}

/// <summary>Seconds-long cases: 1 warm-up + 3 measured iterations, in process (no per-benchmark project build).</summary>
public sealed class InProcessMonitoringConfig : ManualConfig
{
    public InProcessMonitoringConfig()
    {
        AddJob(Job.Default.WithStrategy(RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
            .WithToolchain(InProcessEmitToolchain.Instance));
    }
}
