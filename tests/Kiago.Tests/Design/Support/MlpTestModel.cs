using Kiago.Design.Initialisers;
using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Tests.Design.Support;

/// <summary>
/// A fixed random 2-layer MLP over the 118-vector (Linear → ReLU → Linear), built from the backend's
/// PrepareLinear/Relu ops: a stand-in predictor for the optimiser tests (not a trained model).
/// </summary>
public sealed class MlpTestModel : ICompositionModel
{
    const int E = 118;
    readonly ILinear _l1, _l2;
    readonly int _hidden;
    DeviceBuffer<float>? _h, _dy, _dh, _dx;
    int _capacity;

    public MlpTestModel(IBackend backend, ulong seed, int hidden = 32, float outputScale = 50f, float outputBias = 0f,
        string name = "tc", string unit = "K")
    {
        Backend = backend; OutputName = name; OutputUnit = unit; _hidden = hidden;
        var rng = new DesignRandom(seed);
        var w1 = new float[hidden * E]; var b1 = new float[hidden];
        for (int i = 0; i < w1.Length; i++) w1[i] = (float)((rng.NextDouble() * 2 - 1) * 3.0);
        for (int i = 0; i < b1.Length; i++) b1[i] = (float)((rng.NextDouble() * 2 - 1) * 0.3);
        var w2 = new float[hidden];
        for (int i = 0; i < w2.Length; i++) w2[i] = (float)((rng.NextDouble() * 2 - 1) * outputScale / hidden);
        _l1 = backend.PrepareLinear(new LinearSpec(E, hidden), w1, b1);
        _l2 = backend.PrepareLinear(new LinearSpec(hidden, 1), w2, [outputBias]);
    }

    public string OutputName { get; }
    public string OutputUnit { get; }
    public IBackend Backend { get; }

    void Ensure(int batch)
    {
        if (batch <= _capacity) return;
        _h?.Dispose(); _dy?.Dispose(); _dh?.Dispose(); _dx?.Dispose();
        _h = Backend.Allocate<float>((long)batch * _hidden);
        _dh = Backend.Allocate<float>((long)batch * _hidden);
        _dy = Backend.Allocate<float>(batch);
        _dx = Backend.Allocate<float>((long)batch * E);
        _capacity = batch;
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        Ensure(batch);
        _l1.Forward(batch, x, _h!, fuseRelu: true);
        _l2.Forward(batch, _h!, y);
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        Forward(batch, x, y);
        Backend.Fill(_dy!, gradScale, batch);
        _l2.BackwardInput(batch, _dy!, _dh!);
        Backend.ReluBackward(_h!, _dh!, _dh!, (long)batch * _hidden);
        _l1.BackwardInput(batch, _dh!, _dx!);
        Backend.Axpy(1f, _dx!, dxAccumulate, (long)batch * E);
    }

    public void Dispose()
    {
        _l1.Dispose(); _l2.Dispose();
        _h?.Dispose(); _dy?.Dispose(); _dh?.Dispose(); _dx?.Dispose();
    }
}
