using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Tests.Design.Support;

/// <summary>Wraps a model and cancels a token at its n-th ForwardBackward: a deterministic "kill" mid-run.</summary>
public sealed class CancellingModel(ICompositionModel inner, CancellationTokenSource cancel, int cancelAtCall) : ICompositionModel
{
    int calls;
    public string OutputName => inner.OutputName;
    public string OutputUnit => inner.OutputUnit;
    public IBackend Backend => inner.Backend;
    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.Forward(batch, x, y);
    public void ForwardBackward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dxAccumulate, float gradScale)
    {
        if (++calls == cancelAtCall) cancel.Cancel();
        inner.ForwardBackward(batch, x, y, dxAccumulate, gradScale);
    }
    public void Dispose() { }
}
