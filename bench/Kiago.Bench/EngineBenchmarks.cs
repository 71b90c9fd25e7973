using BenchmarkDotNet.Attributes;
using Kiago.Autodiff;
using Kiago.Nets.Architectures;
using Kiago.Nets.Graph;
using Kiago.Kernels;
using Kiago.Kernels.Cpu;

namespace Kiago.Bench;

/// <summary>Shared setup: a 2-thread SIMD CPU backend (the target machine class) and random inputs.</summary>
public abstract class EngineBench
{
    protected CpuBackend Backend { get; private set; } = null!;

    [Params(2)]
    public int Threads { get; set; }

    protected void CreateBackend() => Backend = new CpuBackend(Threads);

    protected DeviceBuffer<float> RandomBuffer(long length, int seed)
    {
        var rng = new Random(seed);
        var host = new float[length];
        for (long i = 0; i < length; i++) host[i] = (float)(rng.NextDouble() * 2 - 1);
        var buffer = Backend.Allocate<float>(length);
        Backend.Upload<float>(host, buffer);
        return buffer;
    }
}

/// <summary>C[M,N] = A[M,K]·B[K,N] (B packed per call). GFLOP/s = 2·M·N·K / mean time.</summary>
public class GemmBench : EngineBench
{
    DeviceBuffer<float> a = null!, b = null!, c = null!;

    [Params("4096x512x576", "65536x64x576")]
    public string Shape { get; set; } = "";

    int M => int.Parse(Shape.Split('x')[0]);
    int N => int.Parse(Shape.Split('x')[1]);
    int K => int.Parse(Shape.Split('x')[2]);

    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        a = RandomBuffer((long)M * K, 1);
        b = RandomBuffer((long)K * N, 2);
        c = Backend.Allocate<float>((long)M * N);
    }

    [Benchmark]
    public void Gemm() => Backend.Gemm(M, N, K, a, false, b, false, c);
}

/// <summary>Forward + input backward through one ResNet18 stage (4×7×32 network input), batch 1024.</summary>
public class ResNetStageBench : EngineBench
{
    GraphExecutor net = null!;
    Tape tape = null!;
    DeviceBuffer<float> x = null!;
    int[] shape = [];

    [Params(0, 1, 2, 3, 4, 5)]
    public int Stage { get; set; }

    [Params(1024)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        var stage = RandomArchitectures.ResNet18().Stages[Stage];
        net = new GraphExecutor(stage.Graph, Backend);
        tape = new Tape(Backend);
        shape = [Batch, .. stage.InputShape];
        x = RandomBuffer(shape.Aggregate(1L, (p, d) => p * d), 3);
    }

    [Benchmark]
    public void ForwardBackward()
    {
        var leaf = tape.Leaf(x, shape, requiresGrad: true);
        tape.Backward(net.Run(tape, leaf));
        tape.Reset();
    }
}

/// <summary>Whole ResNet18 (4×7×32) and ElemNet (86 inputs): forward + input backward; divide by Batch for ms/sample.</summary>
public class ModelBench : EngineBench
{
    GraphExecutor resnet = null!, elemnet = null!;
    Tape tape = null!;
    DeviceBuffer<float> image = null!, fractions = null!;

    [Params(256, 1024, 4096)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        CreateBackend();
        resnet = new GraphExecutor(RandomArchitectures.ResNet18().Graph, Backend);
        elemnet = new GraphExecutor(RandomArchitectures.ElemNet().Graph, Backend);
        tape = new Tape(Backend);
        image = RandomBuffer((long)Batch * 4 * 7 * 32, 4);
        fractions = RandomBuffer((long)Batch * 86, 5);
    }

    [Benchmark]
    public void ResNet18()
    {
        tape.Backward(resnet.Run(tape, tape.Leaf(image, [Batch, 4, 7, 32], requiresGrad: true)));
        tape.Reset();
    }

    [Benchmark]
    public void ElemNet()
    {
        tape.Backward(elemnet.Run(tape, tape.Leaf(fractions, [Batch, 86], requiresGrad: true)));
        tape.Reset();
    }
}
