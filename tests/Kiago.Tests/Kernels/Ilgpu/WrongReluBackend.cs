using Kiago.Kernels;

namespace Kiago.Tests.Kernels.Ilgpu;

/// <summary>Forwards every op to an inner backend except ReLU, which copies x: a planted bug for the parity check.</summary>
sealed class WrongReluBackend(IBackend inner) : IBackend
{
    public string DeviceName => "wrong-relu: " + inner.DeviceName;
    public DeviceKind Kind => inner.Kind;
    public DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged => inner.Allocate<T>(length);
    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination, long destinationOffset = 0) where T : unmanaged =>
        inner.Upload(source, destination, destinationOffset);
    public void Download<T>(DeviceBuffer<T> source, Span<T> destination, long sourceOffset = 0) where T : unmanaged =>
        inner.Download(source, destination, sourceOffset);
    public void Copy(DeviceBuffer<float> source, DeviceBuffer<float> destination, long count) => inner.Copy(source, destination, count);
    public void Fill(DeviceBuffer<float> buffer, float value, long count) => inner.Fill(buffer, value, count);
    public void Synchronize() => inner.Synchronize();
    public Kiago.Kernels.Composition.ICompositionKernel CreateCompositionKernel(Kiago.Kernels.Composition.CompositionSpec spec) => inner.CreateCompositionKernel(spec);
    public IConv2d PrepareConv2d(Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) => inner.PrepareConv2d(spec, weight, bias);
    public ILinear PrepareLinear(LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) => inner.PrepareLinear(spec, weight, bias);
    public void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB, DeviceBuffer<float> c, float alpha = 1, float beta = 0) =>
        inner.Gemm(m, n, k, a, transposeA, b, transposeB, c, alpha, beta);
    public void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count) => inner.Copy(x, y, count);
    public void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count) => inner.ReluBackward(y, dy, dx, count);
    public void Sigmoid(DeviceBuffer<float> x, DeviceBuffer<float> y, long count) => inner.Sigmoid(x, y, count);
    public void SigmoidBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count) => inner.SigmoidBackward(y, dy, dx, count);
    public void RowOp(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.RowOp(spec, x, y);
    public void RowOpBackward(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        inner.RowOpBackward(spec, x, y, dy, dx);
    public void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count) => inner.Multiply(a, b, y, count);
    public void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y) =>
        inner.LayerNorm(spec, x, gamma, beta, y);
    public void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        inner.LayerNormBackward(spec, x, gamma, dy, dx);
    public void Unary(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, long count) => inner.Unary(spec, x, y, count);
    public void UnaryBackward(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count) =>
        inner.UnaryBackward(spec, x, y, dy, dx, count);
    public void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count) => inner.Add(a, b, y, count);
    public void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count) => inner.Axpy(alpha, x, y, count);
    public void Scale(DeviceBuffer<float> x, float alpha, long count) => inner.Scale(x, alpha, count);
    public void MaxPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax) => inner.MaxPool2d(spec, batch, x, y, argmax);
    public void MaxPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx) => inner.MaxPool2dBackward(spec, batch, dy, argmax, dx);
    public void AvgPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.AvgPool2d(spec, batch, x, y);
    public void AvgPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx) => inner.AvgPool2dBackward(spec, batch, dy, dx);
    public void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.GlobalAvgPool(batch, channels, spatial, x, y);
    public void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx) => inner.GlobalAvgPoolBackward(batch, channels, spatial, dy, dx);
    public void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) => inner.GatherColumns(batch, x, xColumns, index, y, yColumns);
    public void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns) => inner.ScatterColumns(batch, x, xColumns, index, y, yColumns);
    public void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.RowSum(batch, columns, x, y);
    public void AddRowToEach(int batch, int columns, DeviceBuffer<float> a, DeviceBuffer<float> row, DeviceBuffer<float> y) => inner.AddRowToEach(batch, columns, a, row, y);
    public void BatchedGemm(int count, int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB, DeviceBuffer<float> c) =>
        inner.BatchedGemm(count, m, n, k, a, transposeA, b, transposeB, c);
    public void GatherRows(int rows, DeviceBuffer<float> index, DeviceBuffer<float> table, int vocabulary, int width, DeviceBuffer<float> y) =>
        inner.GatherRows(rows, index, table, vocabulary, width, y);
    public void SelectTokens(int batch, int columns, DeviceBuffer<float> x, int tokens, DeviceBuffer<float> y, DeviceBuffer<int> picked) =>
        inner.SelectTokens(batch, columns, x, tokens, y, picked);
    public void ScatterTokens(int batch, int columns, int tokens, DeviceBuffer<int> picked, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        inner.ScatterTokens(batch, columns, tokens, picked, dy, dx);
    public void ColumnSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y) => inner.ColumnSum(batch, columns, x, y);
    public void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient, DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count) =>
        inner.AdamUpdate(spec, step, parameter, gradient, firstMoment, secondMoment, count);
    public void Dispose() => inner.Dispose();
}
