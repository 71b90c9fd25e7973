using System.Diagnostics;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Bench;

/// <summary>
/// Parity of imported random-weight ResNet18 / ElemNet with PyTorch (float64 references from export_fixtures.py --full):
/// import time, forward and input-gradient errors for fp32 and fp16 .kgw files. Prints a Markdown table.
/// </summary>
internal static class NetsParity
{
    public static int Run(string[] args)
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores; load: {File.ReadAllText("/proc/loadavg").Trim()}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine("| model | onnx file | import (cold / warm) | kgw | forward max rel err | input-grad max rel err |");
        Console.WriteLine("|---|---|---|---|---|---|");
        using var backend = new CpuBackend();
        foreach (var c in NetsExports.Load())
        {
            var kind = c.Name == "resnet18" ? ModelKind.TcResNet : ModelKind.ElemNet;
            foreach (var file in c.Onnx)
            {
                string path = Path.Combine(NetsExports.Folder, file);
                var sw = Stopwatch.StartNew();
                ModelConverter.Convert(path, new ConvertOptions(kind));
                double cold = sw.Elapsed.TotalSeconds;
                sw.Restart();
                var model = ModelConverter.Convert(path, new ConvertOptions(kind));
                double warm = sw.Elapsed.TotalSeconds;
                foreach (bool fp16 in new[] { false, true })
                {
                    var m = fp16 ? model.WithStorage(Kiago.Nets.Graph.TensorStorageType.Float16) : model;
                    var loaded = WeightFile.Deserialize(WeightFile.Serialize(m), file);
                    var (fwd, grad) = Errors(loaded, c, backend);
                    Console.WriteLine($"| {c.Name} | {file} | {cold:F2} s / {warm:F2} s | {(fp16 ? "fp16" : "fp32")} | {fwd:E2} | {grad:E2} |");
                }
            }
        }
        return 0;
    }

    static (double Forward, double Gradient) Errors(WeightModel weights, NetsExports.Case c, CpuBackend backend)
    {
        using var model = new GraphModel(weights, backend);
        int batch = c.X.Length;
        using var x = backend.Allocate<float>(batch * 118L);
        using var y = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(batch * 118L);
        backend.Upload<float>(c.X.SelectMany(r => r.Select(v => (float)v)).ToArray(), x);
        model.ForwardBackward(batch, x, y, dx, 1f);
        var yh = new float[batch];
        var gh = new float[batch * 118];
        backend.Download(y, yh);
        backend.Download(dx, gh);
        double yScale = c.Y.Max(Math.Abs), gScale = c.Dydx.SelectMany(r => r).Max(Math.Abs);
        double fwd = 0, grad = 0;
        for (int b = 0; b < batch; b++)
        {
            fwd = Math.Max(fwd, Math.Abs(yh[b] - c.Y[b]) / yScale);
            for (int i = 0; i < 118; i++) grad = Math.Max(grad, Math.Abs(gh[b * 118 + i] - c.Dydx[b][i]) / gScale);
        }
        return (fwd, grad);
    }
}
