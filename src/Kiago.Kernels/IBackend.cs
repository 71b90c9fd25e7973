using Kiago.Kernels.Composition;

namespace Kiago.Kernels;

/// <summary>
/// One compute engine: buffers plus the ops KIAGO needs, forward and backward w.r.t. the input.
/// Every op is enqueued on the backend's stream; nothing waits for the device until <see cref="Synchronize"/>
/// or a download. Shape errors throw <see cref="ShapeException"/> naming the op and both shapes.
/// All float tensors are NCHW / row-major; "batch" is the leading dimension N.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Human-readable device, e.g. "cpu: SIMD AVX2+FMA, 2 threads" or "cuda: NVIDIA H100 (sm_90)".</summary>
    string DeviceName { get; }

    DeviceKind Kind { get; }

    // ---- memory -------------------------------------------------------------------------------------
    /// <summary>A zero-filled buffer.</summary>
    DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged;
    void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination, long destinationOffset = 0) where T : unmanaged;
    /// <summary>Copies to the host; waits for pending work on the buffer.</summary>
    void Download<T>(DeviceBuffer<T> source, Span<T> destination, long sourceOffset = 0) where T : unmanaged;
    void Copy(DeviceBuffer<float> source, DeviceBuffer<float> destination, long count);
    void Fill(DeviceBuffer<float> buffer, float value, long count);
    void Synchronize();

    // ---- fused optimiser kernels ----------------------------------------------------------------------
    /// <summary>The fused composition map and integer loss of one base (<see cref="ICompositionKernel"/>), on this backend.</summary>
    ICompositionKernel CreateCompositionKernel(CompositionSpec spec);

    // ---- frozen layers (weights prepared once) --------------------------------------------------------
    /// <summary>Prepares a convolution (BatchNorm already folded into weight and bias by the caller).</summary>
    IConv2d PrepareConv2d(Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias);
    /// <summary>Prepares y = x·Wᵀ + b; an empty <paramref name="bias"/> means no bias.</summary>
    ILinear PrepareLinear(LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias);

    /// <summary>General row-major GEMM: C[M,N] = alpha·op(A)·op(B) + beta·C (benchmarks and tests).</summary>
    void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c, float alpha = 1f, float beta = 0f);

    /// <summary>
    /// C_i = op(A_i)·op(B_i) for i &lt; <paramref name="count"/> (overwrites C): row-major items stored back to back, A_i
    /// m×k (k×m when transposed), B_i k×n (n×k when transposed), C_i m×n. The products of two activations (attention).
    /// </summary>
    void BatchedGemm(int count, int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c);

    // ---- elementwise and reductions ---------------------------------------------------------------------
    void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count);
    /// <summary>dx = dy where y &gt; 0 else 0 (ReLU'(0) = 0, as PyTorch).</summary>
    void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count);
    /// <summary>y = σ(x) = 1 / (1 + e^(−x)), elementwise (±∞ give 1 and 0, NaN stays NaN).</summary>
    void Sigmoid(DeviceBuffer<float> x, DeviceBuffer<float> y, long count);
    /// <summary>dx = dy · y · (1 − y), from the forward output y = σ(x).</summary>
    void SigmoidBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count);
    /// <summary>y = f(x) element-wise for the functions of <see cref="UnaryKind"/> (<see cref="UnarySpec.Forward"/>).</summary>
    void Unary(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, long count);
    /// <summary>dx = dy · f′(x), from the forward input x and output y (<see cref="UnarySpec.Derivative"/>).</summary>
    void UnaryBackward(UnarySpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count);
    /// <summary>y = a + b, elementwise.</summary>
    void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count);
    /// <summary>y = a · b, elementwise (its gradients are products too: da = dy · b, db = dy · a).</summary>
    void Multiply(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count);
    /// <summary>A <see cref="RowOpKind"/> (softmax, log-softmax, sum, mean, max) over each row of the last axis; y has <see cref="RowOpSpec.OutCount"/> values.</summary>
    void RowOp(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y);
    /// <summary>Its input gradient from the forward input x, output y and dy (<see cref="RowOpSpec.Backward{TView}"/>).</summary>
    void RowOpBackward(RowOpSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
    /// <summary>
    /// Layer normalisation over the last axis: per row r of <see cref="LayerNormSpec.Width"/> values,
    /// y = γ ⊙ (x − μ_r) / √(σ²_r + ε) + β with the row's mean μ_r and population variance σ²_r.
    /// </summary>
    void LayerNorm(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> beta, DeviceBuffer<float> y);
    /// <summary>
    /// The input gradient of <see cref="LayerNorm"/> (γ and β are frozen): with g = dy ⊙ γ, x̂ = (x − μ)·r and
    /// r = 1/√(σ² + ε), dx = r · (g − mean(g) − x̂ · mean(g ⊙ x̂)) per row; μ and r are recomputed from x.
    /// </summary>
    void LayerNormBackward(LayerNormSpec spec, DeviceBuffer<float> x, DeviceBuffer<float> gamma, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
    /// <summary>y += alpha·x, elementwise (gradient accumulation).</summary>
    void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count);
    void Scale(DeviceBuffer<float> x, float alpha, long count);

    void MaxPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax);
    /// <summary>dx = 0, then dx[argmax[o]] += dy[o] (argmax indexes the whole input buffer).</summary>
    void MaxPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx);
    void AvgPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y);
    void AvgPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
    /// <summary>[N, C, H·W] → [N, C] mean.</summary>
    void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y);
    void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx);

    /// <summary>y[b, j] = x[b, index[j]] for j &lt; yColumns (rows of x have xColumns). Adjoint of <see cref="ScatterColumns"/>.</summary>
    void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns);
    /// <summary>y = 0, then y[b, index[j]] += x[b, j] for j &lt; xColumns.</summary>
    void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns);

    /// <summary>Per row b of a [batch, columns] matrix: y[b] = Σ_j x[b, j].</summary>
    void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y);
    /// <summary>y[b, j] = a[b, j] + row[j]: one row added to every row of a [batch, columns] matrix (a may be y).</summary>
    /// <summary>
    /// Rows of a frozen table picked by index: y[r, :] = table[index[r], :] for r &lt; <paramref name="rows"/>, the index read
    /// from a float buffer (element-token inputs carry atomic numbers as floats) and rounded to the nearest integer. An
    /// index outside [0, <paramref name="vocabulary"/>) gives a row of NaN, so a bad index cannot pass unseen.
    /// </summary>
    void GatherRows(int rows, DeviceBuffer<float> index, DeviceBuffer<float> table, int vocabulary, int width, DeviceBuffer<float> y);

    /// <summary>
    /// Element tokens of each row of x [batch, columns] (column c is atomic number c + 1): the up to <paramref name="tokens"/>
    /// largest positive entries (ties: the lower column), in column order. y [batch, 2, tokens]: the atomic numbers (as
    /// floats), then the fractions; unused slots hold 0 and 0. picked [batch, tokens]: the column of each slot, −1 if unused.
    /// </summary>
    void SelectTokens(int batch, int columns, DeviceBuffer<float> x, int tokens, DeviceBuffer<float> y, DeviceBuffer<int> picked);

    /// <summary>The adjoint of <see cref="SelectTokens"/> for the fractions: dx = 0, then dx[b, picked[b, t]] = dy[b, 1, t] (overwrites dx).</summary>
    void ScatterTokens(int batch, int columns, int tokens, DeviceBuffer<int> picked, DeviceBuffer<float> dy, DeviceBuffer<float> dx);

    void AddRowToEach(int batch, int columns, DeviceBuffer<float> a, DeviceBuffer<float> row, DeviceBuffer<float> y);
    /// <summary>y[j] = Σ_b x[b, j], added in row order (the adjoint of <see cref="AddRowToEach"/> for the row).</summary>
    void ColumnSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y);

    /// <summary>One Adam step (bias-corrected, PyTorch semantics) at 1-based step <paramref name="step"/>.</summary>
    void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count);
}

/// <summary>A prepared, frozen convolution. Optional fused ReLU on the output.</summary>
public interface IConv2d : IDisposable
{
    Conv2dSpec Spec { get; }
    void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false);
    /// <summary>dx = convᵀ(dy): the gradient w.r.t. the input (overwrites dx).</summary>
    void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
}

/// <summary>
/// Optional on a frozen layer: its input backward applies a fused ReLU's mask itself, reading the kept output, so
/// the tape skips a separate masking pass over dy (the CPU conv masks each block as it gathers it).
/// </summary>
public interface IReluMaskedBackward
{
    /// <summary>dx = layerᵀ(dy ⊙ [reluOutput &gt; 0]): the same bytes as ReluBackward followed by BackwardInput.</summary>
    void BackwardInputMasked(int batch, DeviceBuffer<float> reluOutput, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
}

/// <summary>A prepared, frozen fully connected layer. Optional fused ReLU on the output.</summary>
public interface ILinear : IDisposable
{
    LinearSpec Spec { get; }
    void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false);
    /// <summary>dx = dy·W (overwrites dx).</summary>
    void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx);
}
