using System.Diagnostics;
using Kiago.Kernels.Cpu;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Onnx;
using Kiago.Nets.Weights;

namespace Kiago.Bench;

/// <summary>
/// <c>token-model [--batch 1024] [--repeats 50] [--threads 2] [--onnx F]</c>: the BYO token transformer
/// (tests/Kiago.Tests/Nets/Fixtures/byo/tokens8_op17.onnx) on random 2–6 element compositions, the median ms of a
/// forward and of a forward + input backward (after 40 warm-up calls each), token featuriser included — the peer is bench/peer/torch_tokens.py.
/// </summary>
public static class TokenModelStep
{
    public static int Run(string[] args)
    {
        int batch = 1024, repeats = 50, threads = 2;
        string path = "tests/Kiago.Tests/Nets/Fixtures/byo/tokens8_op17.onnx";
        VerbOptions.Parse(args, new Dictionary<string, Action<string>>
        {
            ["--batch"] = v => batch = VerbOptions.Int(v), ["--repeats"] = v => repeats = VerbOptions.Int(v),
            ["--threads"] = v => threads = VerbOptions.Int(v), ["--onnx"] = v => path = v,
        });
        using var backend = new CpuBackend(threads);
        var graph = OnnxImporter.Import(path);
        var model = new WeightModel(ModelKind.Tokens, [.. Featuriser.Layout(ModelKind.Tokens).Accepted], "score", "K", graph, "{}", "bench");
        using var net = new GraphModel(model, backend);
        var rng = new Random(7);
        var host = new float[batch * 118];
        for (int b = 0; b < batch; b++)
        {
            int k = rng.Next(2, 7);
            var picked = Enumerable.Range(0, 118).OrderBy(_ => rng.Next()).Take(k).ToArray();
            float sum = 0;
            foreach (int c in picked) sum += host[b * 118 + c] = (float)(0.1 + rng.NextDouble());
            foreach (int c in picked) host[b * 118 + c] /= sum;
        }
        using var x = backend.Allocate<float>(host.Length);
        using var y = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(host.Length);
        backend.Upload<float>(host, x);
        Console.WriteLine($"{backend.DeviceName}, batch {batch}, {graph.Nodes.Count} ops");
        Report("forward", repeats, () => net.Forward(batch, x, y));
        Report("forward+backward", repeats, () => net.ForwardBackward(batch, x, y, dx, 1f));
        return 0;
    }

    static void Report(string what, int repeats, Action run)
    {
        // enough warm-up calls for the JIT's tiering to reach optimised code
        for (int w = 0; w < 40; w++) run();
        var times = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"{what,-18}{times[times.Count / 2],8:F2} ms");
    }
}
