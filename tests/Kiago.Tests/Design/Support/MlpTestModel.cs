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
    readonly ILinear l1, l2;
    readonly int hiddenWidth;
    DeviceBuffer<float>? h, dy, dh, dx;
    int capacity;

    public MlpTestModel(IBackend backend, ulong seed, int hidden = 32, float outputScale = 50f, float outputBias = 0f,
        string name = "tc", string unit = "K")
    {
        Backend = backend; OutputName = name; OutputUnit = unit; hiddenWidth = hidden;
        var rng = new DesignRandom(seed);
        var w1 = new float[hidden * E]; var b1 = new float[hidden];
        for (int i = 0; i < w1.Length; i++) w1[i] = (float)((rng.NextDouble() * 2 - 1) * 3.0);
        for (int i = 0; i < b1.Length; i++) b1[i] = (float)((rng.NextDouble() * 2 - 1) * 0.3);
        var w2 = new float[hidden];
        for (int i = 0; i < w2.Length; i++) w2[i] = (float)((rng.NextDouble() * 2 - 1) * outputScale / hidden);
        l1 = backend.PrepareLinear(new LinearSpec(E, hidden), w1, b1);
        l2 = backend.PrepareLinear(new LinearSpec(hidden, 1), w2, [outputBias]);
    }

    public string OutputName { get; }
    public string OutputUnit { get; }
    public IBackend Backend { get; }

    void Ensure(int batch)
    {
        if (batch <= capacity) return;
        h?.Dispose(); dy?.Dispose(); dh?.Dispose(); dx?.Dispose();
        h = Backend.Allocate<float>((long)batch * hiddenWidth);
        dh = Backend.Allocate<float>((long)batch * hiddenWidth);
        dy = Backend.Allocate<float>(batch);
        dx = Backend.Allocate<float>((long)batch * E);
        capacity = batch;
    }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        Ensure(batch);
        l1.Forward(batch, x, h!, fuseRelu: true);
        l2.Forward(batch, h!, y);
    }

    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        Forward(batch, x, y);
        Backend.Fill(dy!, gradScale, batch);
        l2.BackwardInput(batch, dy!, dh!);
        Backend.ReluBackward(h!, dh!, dh!, (long)batch * hiddenWidth);
        l1.BackwardInput(batch, dh!, dx!);
        Backend.Axpy(1f, dx!, dxAccumulate, (long)batch * E);
    }

    public void Dispose()
    {
        l1.Dispose(); l2.Dispose();
        h?.Dispose(); dy?.Dispose(); dh?.Dispose(); dx?.Dispose();
    }
}
