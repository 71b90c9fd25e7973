using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>
/// Launch shape of a convolution (forward or input-backward) as an implicit GEMM on the tiled kernel:
/// C[channel, pixel] = Σ_k A[channel, k] · gather(source)[k, pixel], stored NCHW. Rows are the channels written
/// (Cout forward, Cin backward), columns the pixels written (Batch·OH·OW forward, Batch·H·W backward), and k runs
/// over (source channel, tap) pairs of the taps that some pixel reaches (taps only on padding are dropped).
/// </summary>
public struct ConvGemmShape
{
    /// <summary>Channels written (rows), pixels written (columns), (source channel, tap) pairs; A[i, k] = packed[k·M + i].</summary>
    public int M, N, K;
    /// <summary>Threads per group along rows and columns, and tiles per row of C (as in <see cref="GemmShape"/>).</summary>
    public int GroupRows, GroupCols, ColumnGroups;
    /// <summary>log2 of the tile's rows and columns (powers of two).</summary>
    public int TileRowsShift, TileColsShift;
    /// <summary>Pixel grid of the columns (the map written): PixelH × PixelW per image.</summary>
    public int PixelH, PixelW;
    /// <summary>Map read: SourceChannels × SourceH × SourceW per image.</summary>
    public int SourceChannels, SourceH, SourceW;
    /// <summary>Source row/column origin of a pixel: p·OriginScale + OriginOffset, then + the tap's delta, then ÷ Step.</summary>
    public int OriginScaleH, OriginScaleW, OriginOffsetH, OriginOffsetW, StepH, StepW;
    public int HasBias, Relu;
}

/// <summary>
/// Convolution forward and input-backward on the shared-memory tiled GEMM (<see cref="TiledGemm.MultiplyTiles"/>):
/// the B tile is gathered from the NCHW source on the fly (no im2col buffer) using a per-k table (channel offset,
/// row and column tap deltas) and a per-group table of the tile's pixels; out-of-map taps read 0. Forward source
/// row = oh·SH − PT + kh·DH; backward (the transposed convolution, a gather: no atomics) source row
/// oh = (ih + PT − kh·DH) / SH when that divides exactly. Consecutive threads take consecutive pixels, so source
/// reads and NCHW stores are coalesced along a map row.
/// </summary>
static class TiledConv
{
    /// <summary>
    /// The tiled convolution, one compiled kernel per <see cref="TilingOptions"/> variant (as
    /// <see cref="TiledGemm.TiledKernel{TDepth, TPrefetch, TReads}"/>): the group first tabulates its tile's pixels in
    /// shared memory, then runs the shared tile loop <see cref="TiledGemm.Run{TTiling, TOperands}"/> on <see cref="ConvOperands"/>.
    /// </summary>
    [IlgpuKernel(ExplicitlyGrouped = true, Variants = typeof(TilingOptions))]
    internal static void TiledConvKernel<TDepth, TPrefetch, TReads>(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
        where TDepth : struct, IStageDepth where TPrefetch : struct, ISwitch where TReads : struct, ISwitch
    {
        var pixelSource = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelRow = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelCol = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelDestination = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        int threads = s.GroupRows * s.GroupCols, tileN = s.GroupCols * TiledGemm.Block;
        int col0 = (Grid.IdxX % s.ColumnGroups) * tileN;
        int pixelMap = s.PixelH * s.PixelW, sourceMap = s.SourceH * s.SourceW;
        for (int j = Group.IdxX; j < tileN; j += threads)
        {
            int p = col0 + j;
            int n = p / pixelMap, q = p - n * pixelMap;
            int ph = q / s.PixelW, pw = q - ph * s.PixelW;
            pixelSource[j] = p < s.N ? n * s.SourceChannels * sourceMap : -1;
            pixelRow[j] = ph * s.OriginScaleH + s.OriginOffsetH;
            pixelCol[j] = pw * s.OriginScaleW + s.OriginOffsetW;
            pixelDestination[j] = n * s.M * pixelMap + q;
        }
        Group.Barrier();
        var operands = new ConvOperands(s, w, kTable, source, bias, destination, pixelSource, pixelRow, pixelCol, pixelDestination);
        TiledGemm.Run<Tiling<TDepth, TPrefetch, TReads>, ConvOperands>(operands, s.GroupRows, s.GroupCols, s.ColumnGroups);
    }
}

/// <summary>
/// The operands of a convolution as a GEMM: A the packed weights (loaded along the channels), B gathered from the
/// NCHW source through the k table and the group's pixel tables (0 for taps outside the map), C stored NCHW with a
/// per-channel bias and ReLU.
/// </summary>
readonly struct ConvOperands(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source, ArrayView<float> bias,
    ArrayView<float> destination, ArrayView<int> pixelSource, ArrayView<int> pixelRow, ArrayView<int> pixelCol, ArrayView<int> pixelDestination) : ITileOperands
{
    public int Rows => s.M;
    public int Depth => s.K;

    /// <summary>Element e of the weight tile (tileM × TileK, loaded along the rows: packed[k·M + row]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Staged StageA(int e, int tileM, int tileK, int tileKShift, int row0, int k0)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileM * tileK)
        {
            int i = e & (tileM - 1), kk = e >> s.TileRowsShift;
            int gi = row0 + i, gk = k0 + kk;
            x.Slot = kk * TiledGemm.SharedStride + i;
            if (gi < s.M && gk < s.K) x.Value = w[gk * s.M + gi];
        }
        return x;
    }

    /// <summary>Element e of the gathered source tile (TileK × tileN, loaded along the pixels); 0 for taps outside the map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Staged StageB(int e, int tileN, int tileK, int tileKShift, int col0, int k0)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileN * tileK)
        {
            int j = e & (tileN - 1), kk = e >> s.TileColsShift;
            int gk = k0 + kk, baseIndex = pixelSource[j];
            x.Slot = kk * TiledGemm.SharedStride + j;
            if (gk < s.K && baseIndex >= 0)
            {
                int r = pixelRow[j] + kTable[3 * gk + 1], c = pixelCol[j] + kTable[3 * gk + 2];
                bool inside = r >= 0 && c >= 0;
                // Transposed strided conv: the source row is r / step when it divides (stride 2 by shifts).
                if (s.StepH == 2) { inside = inside && (r & 1) == 0; r >>= 1; }
                else if (s.StepH != 1) { inside = inside && r % s.StepH == 0; r /= s.StepH; }
                if (s.StepW == 2) { inside = inside && (c & 1) == 0; c >>= 1; }
                else if (s.StepW != 1) { inside = inside && c % s.StepW == 0; c /= s.StepW; }
                if (inside && r < s.SourceH && c < s.SourceW) x.Value = source[baseIndex + kTable[3 * gk] + r * s.SourceW + c];
            }
        }
        return x;
    }

    public float RowAdd(int channel) => s.HasBias != 0 ? bias[channel] : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int channel, float rowAdd, int col0, int j, float acc)
    {
        if (col0 + j >= s.N) return;
        float v = acc + rowAdd;
        if (s.Relu != 0 && v < 0f) v = 0f;
        destination[pixelDestination[j] + channel * s.PixelH * s.PixelW] = v;
    }
}

/// <summary>
/// One direction of a convolution on <see cref="TiledConv"/>: weights packed [K][channels written] and the k table
/// (source channel offset, row delta, column delta) over the taps some pixel reaches, uploaded once.
/// </summary>
sealed class TiledConvPlan : IDisposable
{
    readonly IlgpuBackend backend;
    readonly MemoryBuffer1D<float, Stride1D.Dense> packed;
    readonly MemoryBuffer1D<int, Stride1D.Dense> kTable;
    readonly ConvGemmShape template;
    readonly Action<AcceleratorStream, KernelConfig, ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>?[] kernels =
        new Action<AcceleratorStream, KernelConfig, ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>?[8];

    TiledConvPlan(IlgpuBackend backend, ConvGemmShape template, float[] packed, int[] kTable)
    {
        this.backend = backend;
        this.template = template;
        this.packed = backend.UploadFrozen(packed);
        try
        {
            this.kTable = backend.UploadFrozen(kTable);
        }
        catch
        {
            backend.FreeFrozen(this.packed);
            throw;
        }
    }

    /// <summary>y = conv(x): rows Cout, pixels the output map, source x; taps kh with 0 ≤ oh·SH − PT + kh·DH &lt; H for some oh.</summary>
    public static TiledConvPlan Forward(IlgpuBackend backend, Conv2dSpec s, float[] w)
    {
        var rowTaps = Reached(s.KernelHeight, kh => Enumerable.Range(0, s.OutHeight).Any(oh => Inside(oh * s.StrideH - s.PadTop + kh * s.DilationH, s.InHeight)));
        var colTaps = Reached(s.KernelWidth, kw => Enumerable.Range(0, s.OutWidth).Any(ow => Inside(ow * s.StrideW - s.PadLeft + kw * s.DilationW, s.InWidth)));
        var shape = new ConvGemmShape
        {
            M = s.OutChannels, PixelH = s.OutHeight, PixelW = s.OutWidth,
            SourceChannels = s.InChannels, SourceH = s.InHeight, SourceW = s.InWidth,
            OriginScaleH = s.StrideH, OriginScaleW = s.StrideW, OriginOffsetH = -s.PadTop, OriginOffsetW = -s.PadLeft,
            StepH = 1, StepW = 1,
        };
        return Build(backend, s, w, shape, rowTaps, colTaps, s.InHeight * s.InWidth, forward: true);
    }

    /// <summary>dx = convᵀ(dy): rows Cin, pixels the input map, source dy; taps kh with (ih + PT − kh·DH) = oh·SH, 0 ≤ oh &lt; OH for some ih.</summary>
    public static TiledConvPlan BackwardInput(IlgpuBackend backend, Conv2dSpec s, float[] w)
    {
        var rowTaps = Reached(s.KernelHeight, kh => Enumerable.Range(0, s.InHeight).Any(ih => Divides(ih + s.PadTop - kh * s.DilationH, s.StrideH, s.OutHeight)));
        var colTaps = Reached(s.KernelWidth, kw => Enumerable.Range(0, s.InWidth).Any(iw => Divides(iw + s.PadLeft - kw * s.DilationW, s.StrideW, s.OutWidth)));
        var shape = new ConvGemmShape
        {
            M = s.InChannels, PixelH = s.InHeight, PixelW = s.InWidth,
            SourceChannels = s.OutChannels, SourceH = s.OutHeight, SourceW = s.OutWidth,
            OriginScaleH = 1, OriginScaleW = 1, OriginOffsetH = s.PadTop, OriginOffsetW = s.PadLeft,
            StepH = s.StrideH, StepW = s.StrideW,
        };
        return Build(backend, s, w, shape, rowTaps, colTaps, s.OutHeight * s.OutWidth, forward: false);
    }

    static bool Inside(int index, int extent) => index >= 0 && index < extent;

    static bool Divides(int t, int step, int extent) => t >= 0 && t % step == 0 && t / step < extent;

    static int[] Reached(int taps, Func<int, bool> reached) => Enumerable.Range(0, taps).Where(reached).ToArray();

    static TiledConvPlan Build(IlgpuBackend backend, Conv2dSpec s, float[] w, ConvGemmShape shape, int[] rowTaps, int[] colTaps, int sourceMap, bool forward)
    {
        // k = (source channel, reached tap); A[row, k] = w[co, ci, kh, kw] with (row, source) = (co, ci) forward, (ci, co) backward.
        int taps = rowTaps.Length * colTaps.Length, sources = shape.SourceChannels, rows = shape.M;
        int k = sources * taps;
        var packed = new float[(long)k * rows];
        var table = new int[3 * k];
        int kernelArea = s.KernelHeight * s.KernelWidth;
        for (int src = 0; src < sources; src++)
            for (int a = 0; a < rowTaps.Length; a++)
                for (int b = 0; b < colTaps.Length; b++)
                {
                    int kk = (src * rowTaps.Length + a) * colTaps.Length + b;
                    int kh = rowTaps[a], kw = colTaps[b];
                    table[3 * kk] = src * sourceMap;
                    table[3 * kk + 1] = (forward ? 1 : -1) * kh * s.DilationH;
                    table[3 * kk + 2] = (forward ? 1 : -1) * kw * s.DilationW;
                    for (int row = 0; row < rows; row++)
                    {
                        int co = forward ? row : src, ci = forward ? src : row;
                        packed[(long)kk * rows + row] = w[(co * s.InChannels + ci) * kernelArea + kh * s.KernelWidth + kw];
                    }
                }
        shape.K = k;
        return new TiledConvPlan(backend, shape, packed, table);
    }

    public void Run(string op, int batch, ArrayView<float> source, ArrayView<float> bias, ArrayView<float> destination, bool hasBias, bool relu)
    {
        var s = template;
        s.N = IlgpuBackend.Count(op, (long)batch * s.PixelH * s.PixelW);
        IlgpuBackend.Count(op, (long)batch * s.M * s.PixelH * s.PixelW);
        IlgpuBackend.Count(op, (long)batch * s.SourceChannels * s.SourceH * s.SourceW);
        s.HasBias = hasBias ? 1 : 0;
        s.Relu = relu ? 1 : 0;
        // K may be 0 (no tap reaches the map): the kernel then stores bias alone, like the reference.
        var accelerator = backend.Accelerator;
        var tiling = backend.GemmKernels.Tiling;
        (s.GroupRows, s.GroupCols) = IlgpuGemm.GroupShape(s.M, s.N, accelerator.MaxNumThreadsPerGroup, accelerator.NumMultiprocessors, tiling);
        int tileM = s.GroupRows * TiledGemm.Block, tileN = s.GroupCols * TiledGemm.Block;
        s.TileRowsShift = System.Numerics.BitOperations.Log2((uint)tileM);
        s.TileColsShift = System.Numerics.BitOperations.Log2((uint)tileN);
        s.ColumnGroups = (s.N + tileN - 1) / tileN;
        int groups = IlgpuBackend.Count(op, (long)s.ColumnGroups * ((s.M + tileM - 1) / tileM));
        int variant = tiling.Variant;
        var kernel = kernels[variant] ??= backend.LoadGroupedKernel<Action<AcceleratorStream, KernelConfig, ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(
            tiling.Kernel<Action<ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(typeof(TiledConv), nameof(TiledConv.TiledConvKernel)));
        kernel(backend.Stream, new KernelConfig(groups, s.GroupRows * s.GroupCols), s, packed.View, kTable.View, source, bias, destination);
    }

    public void Dispose()
    {
        backend.FreeFrozen(packed);
        backend.FreeFrozen(kTable);
    }
}
