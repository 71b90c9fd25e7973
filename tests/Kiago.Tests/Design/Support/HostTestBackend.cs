using Kiago.Design.CompositionMap;
using Kiago.Kernels;

namespace Kiago.Tests.Design.Support;

/// <summary>
/// A plain, scalar host backend for the Design tests until the SIMD CpuBackend is on this branch: buffers are
/// managed arrays; only the ops the optimiser and the test models use are implemented (the rest throw).
/// </summary>
public sealed class HostTestBackend : IBackend
{
    public string DeviceName => "host-test (scalar)";
    public DeviceKind Kind => DeviceKind.Cpu;

    public DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged => new HostBuffer<T>(this, length);

    static T[] A<T>(DeviceBuffer<T> b) where T : unmanaged => HostAccess.Array(b);

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination, long destinationOffset = 0) where T : unmanaged
        => source.CopyTo(A(destination).AsSpan((int)destinationOffset));
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination, long sourceOffset = 0) where T : unmanaged
        => A(source).AsSpan((int)sourceOffset, destination.Length).CopyTo(destination);
    public void Copy(DeviceBuffer<float> source, DeviceBuffer<float> destination, long count)
        => A(source).AsSpan(0, (int)count).CopyTo(A(destination));
    public void Fill(DeviceBuffer<float> buffer, float value, long count) => A(buffer).AsSpan(0, (int)count).Fill(value);
    public void Synchronize() { }

    public IConv2d PrepareConv2d(Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) => throw new NotSupportedException();
    public ILinear PrepareLinear(LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) => new Linear(spec, weight.ToArray(), bias.ToArray());
    public void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c, float alpha = 1, float beta = 0) => throw new NotSupportedException();

    public void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        var xs = A(x); var ys = A(y);
        for (long i = 0; i < count; i++) ys[i] = xs[i] > 0 ? xs[i] : 0f;
    }
    public void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        var ys = A(y); var dys = A(dy); var dxs = A(dx);
        for (long i = 0; i < count; i++) dxs[i] = ys[i] > 0 ? dys[i] : 0f;
    }
    public void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count)
    {
        var aa = A(a); var bb = A(b); var yy = A(y);
        for (long i = 0; i < count; i++) yy[i] = aa[i] + bb[i];
    }
    public void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        var xs = A(x); var ys = A(y);
        for (long i = 0; i < count; i++) ys[i] += alpha * xs[i];
    }
    public void Scale(DeviceBuffer<float> x, float alpha, long count)
    {
        var xs = A(x);
        for (long i = 0; i < count; i++) xs[i] *= alpha;
    }
    public void MaxPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax) => throw new NotSupportedException();
    public void MaxPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx) => throw new NotSupportedException();
    public void AvgPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) => throw new NotSupportedException();
    public void AvgPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx) => throw new NotSupportedException();
    public void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y) => throw new NotSupportedException();
    public void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx) => throw new NotSupportedException();
    public void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) => throw new NotSupportedException();
    public void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) => throw new NotSupportedException();
    public void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y) => throw new NotSupportedException();

    public void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count)
    {
        var p = A(parameter); var g = A(gradient); var m = A(firstMoment); var v = A(secondMoment);
        float bc1 = 1f - MathF.Pow(spec.Beta1, step), bc2 = 1f - MathF.Pow(spec.Beta2, step);
        float stepSize = spec.LearningRate / bc1, sqrtBc2 = MathF.Sqrt(bc2);
        for (long i = 0; i < count; i++)
        {
            m[i] = spec.Beta1 * m[i] + (1 - spec.Beta1) * g[i];
            v[i] = spec.Beta2 * v[i] + (1 - spec.Beta2) * g[i] * g[i];
            p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / sqrtBc2 + spec.Epsilon);
        }
    }

    public void Dispose() { }

    sealed class HostBuffer<T>(IBackend backend, long length) : DeviceBuffer<T>(length), IHostBuffer<T> where T : unmanaged
    {
        public T[] Array { get; } = new T[length];
        public override IBackend Backend => backend;
        public override void Dispose() { }
    }

    sealed class Linear(LinearSpec spec, float[] w, float[] bias) : ILinear
    {
        public LinearSpec Spec => spec;
        public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false)
        {
            var xs = A(x); var ys = A(y);
            int nin = spec.InFeatures, nout = spec.OutFeatures;
            for (int b = 0; b < batch; b++)
                for (int o = 0; o < nout; o++)
                {
                    float acc = bias.Length > 0 ? bias[o] : 0f;
                    for (int i = 0; i < nin; i++) acc += xs[b * nin + i] * w[o * nin + i];
                    ys[b * nout + o] = fuseRelu && acc < 0 ? 0f : acc;
                }
        }
        public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
        {
            var dys = A(dy); var dxs = A(dx);
            int nin = spec.InFeatures, nout = spec.OutFeatures;
            for (int b = 0; b < batch; b++)
                for (int i = 0; i < nin; i++)
                {
                    float acc = 0f;
                    for (int o = 0; o < nout; o++) acc += dys[b * nout + o] * w[o * nin + i];
                    dxs[b * nin + i] = acc;
                }
        }
        public void Dispose() { }
    }
}
