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
    readonly Tape _tape;
    DeviceBuffer<float>? _features, _dx;
    int _capacity;

    RandomCompositionModel(IBackend backend, ModelKind kind, Func<Tape, Tensor, Tensor> net, IDisposable owner)
    {
        Backend = backend;
        _featuriser = new Featuriser(kind, backend);
        _net = net; _owner = owner;
        _tape = new Tape(backend);
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

    void Ensure(int batch)
    {
        if (batch <= _capacity) return;
        _features?.Dispose(); _dx?.Dispose();
        _features = Backend.Allocate<float>((long)batch * _featuriser.OutputSize);
        _dx = Backend.Allocate<float>((long)batch * Featuriser.CompositionColumns);
        _capacity = batch;
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) => Run(batch, x, y, null, 0f);

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale) =>
        Run(batch, x, y, dxAccumulate, gradScale);

    void Run(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float>? dx, float scale)
    {
        Ensure(batch);
        _featuriser.Forward(batch, x, _features!);
        _tape.RecordGradients = dx is not null;
        try
        {
            var leaf = _tape.Leaf(_features!, [batch, .. _featuriser.OutputShape], requiresGrad: dx is not null);
            var output = _tape.Keep(_net(_tape, leaf));
            Backend.Copy(output.Buffer, y, batch);
            if (dx is null) return;
            _tape.Backward(output, scale);
            if (leaf.Grad is { } g)
            {
                _featuriser.Backward(batch, g, _dx!);
                Backend.Axpy(1f, _dx!, dx, (long)batch * Featuriser.CompositionColumns);
            }
        }
        finally
        {
            _tape.Reset();
        }
    }

    public void Dispose()
    {
        _tape.Dispose(); _owner.Dispose(); _featuriser.Dispose();
        _features?.Dispose(); _dx?.Dispose();
    }
}
