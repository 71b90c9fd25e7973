using Kiago.Autodiff;
using Kiago.Autodiff.BenchNets;
using Kiago.Kernels;
using Kiago.Nets;
using Kiago.Nets.Featurisers;
using Kiago.Nets.Weights;

namespace Kiago.Design.Models;

/// <summary>
/// The real architectures (ResNet18 on the 4×7×32 periodic-table image, ElemNet on the 86 fractions) with random
/// He-normal weights, behind the optimiser's seam: for whole-step benchmarks and smoke runs without trained weights.
/// Their predictions mean nothing.
/// </summary>
public sealed class RandomCompositionModel : ICompositionModel
{
    readonly Featuriser _featuriser;
    readonly Func<Tape, Tensor, Tensor> _net;
    readonly IDisposable _owner;
    readonly Tape _forwardTape, _backwardTape;

    RandomCompositionModel(IBackend backend, ModelKind kind, Func<Tape, Tensor, Tensor> net, IDisposable owner)
    {
        Backend = backend;
        _featuriser = new Featuriser(kind, backend);
        _net = net; _owner = owner;
        _forwardTape = new Tape(backend) { RecordGradients = false };
        _backwardTape = new Tape(backend);
        (OutputName, OutputUnit) = ModelKinds.DefaultOutput(kind);
    }

    public static RandomCompositionModel ResNet18Tc(IBackend backend, int seed = 0)
    {
        var net = new RandomResNet18(backend, seed: seed);
        return new RandomCompositionModel(backend, ModelKind.TcResNet, net.Forward, net);
    }

    public static RandomCompositionModel ElemNetEf(IBackend backend, int seed = 1)
    {
        var net = new RandomElemNet(backend, seed: seed);
        return new RandomCompositionModel(backend, ModelKind.ElemNet, net.Forward, net);
    }

    public string OutputName { get; }
    public string OutputUnit { get; }
    public IBackend Backend { get; }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) => Run(batch, x, y, null, 0f);

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale) =>
        Run(batch, x, y, dxAccumulate, gradScale);

    void Run(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float>? dx, float scale)
    {
        var tape = dx is null ? _forwardTape : _backwardTape;
        try
        {
            var leaf = tape.Leaf(x, [batch, Featuriser.CompositionColumns], requiresGrad: dx is not null);
            var output = tape.Keep(_net(tape, _featuriser.Apply(tape, leaf)));
            Backend.Copy(output.Buffer, y, batch);
            if (dx is null) return;
            tape.Backward(output, scale);
            if (leaf.Grad is { } g) Backend.Axpy(1f, g, dx, (long)batch * Featuriser.CompositionColumns);
        }
        finally
        {
            tape.Reset();
        }
    }

    public void Dispose()
    {
        _forwardTape.Dispose(); _backwardTape.Dispose(); _owner.Dispose(); _featuriser.Dispose();
    }
}
