using Kiago.Kernels;

namespace Kiago.Tests.Nets;

/// <summary>One forward-backward pass of a model or executor from host inputs to host results.</summary>
internal static class HostRuns
{
    public delegate void ForwardBackwardPass(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dx, float gradScale);

    /// <summary>Runs <paramref name="pass"/> on <paramref name="host"/> (batch rows) with gradient scale 1: the outputs and the input gradient.</summary>
    public static (float[] Y, float[] Grad) ForwardBackward(IBackend backend, float[] host, int batch, ForwardBackwardPass pass)
    {
        using var x = backend.Allocate<float>(host.Length);
        using var y = backend.Allocate<float>(batch);
        using var dx = backend.Allocate<float>(host.Length);
        backend.Upload<float>(host, x);
        pass(batch, x, y, dx, 1f);
        var yh = new float[batch];
        var gh = new float[host.Length];
        backend.Download(y, yh);
        backend.Download(dx, gh);
        return (yh, gh);
    }
}
