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
    /// <summary>Default variant: K staged 16 deep, no register prefetch.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernel(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        var bTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        Body<Depth16>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_TILE_K=8: K staged 8 deep.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelK8(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        var bTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        Body<Depth8>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_PREFETCH=1: the next K stage is loaded into registers while the current one is multiplied.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelPrefetch(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        var bTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        Body<Depth16Prefetch>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_TILE_K=8 and KIAGO_ILGPU_PREFETCH=1.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelK8Prefetch(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        var bTile = SharedMemory.Allocate<float>(TiledGemm.MaxTileK * TiledGemm.SharedStride);
        Body<Depth8Prefetch>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_VEC4=1: float4 shared reads.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelVec(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        Body<Depth16Vec>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_VEC4=1, KIAGO_ILGPU_TILE_K=8.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelK8Vec(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        Body<Depth8Vec>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_VEC4=1, KIAGO_ILGPU_PREFETCH=1.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelPrefetchVec(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        Body<Depth16PrefetchVec>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    /// <summary>KIAGO_ILGPU_VEC4=1, KIAGO_ILGPU_TILE_K=8, KIAGO_ILGPU_PREFETCH=1.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledConvKernelK8PrefetchVec(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination)
    {
        var aTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(TiledGemm.MaxTileK * TiledGemm.SharedStride / 4).Cast<float>();
        Body<Depth8PrefetchVec>(s, w, kTable, source, bias, destination, aTile, bTile);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Body<TDepth>(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<float> bias, ArrayView<float> destination, ArrayView<float> aTile, ArrayView<float> bTile) where TDepth : struct, ITileDepth
    {
        const int Block = TiledGemm.Block;
        int tileK = default(TDepth).TileK;
        var pixelSource = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelRow = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelCol = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        var pixelDestination = SharedMemory.Allocate<int>(TiledGemm.MaxTile);
        int gr = s.GroupRows, gc = s.GroupCols;
        int threads = gr * gc, tid = Group.IdxX;
        int tx = tid % gc, ty = tid / gc;
        int tileM = gr * Block, tileN = gc * Block;
        int loadEnd = Math.Max(tileM, tileN) * tileK;
        int row0 = (Grid.IdxX / s.ColumnGroups) * tileM, col0 = (Grid.IdxX % s.ColumnGroups) * tileN;
        int pixelMap = s.PixelH * s.PixelW, sourceMap = s.SourceH * s.SourceW;

        for (int j = tid; j < tileN; j += threads)
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

        Block8x8 acc = default;
        if (default(TDepth).Prefetch && loadEnd <= 8 * threads)
        {
            // One chunk holds a whole stage: stage k0 + tileK is read into registers before the multiply of stage k0
            // (the last read finds k ≥ K: zeros, no access).
            var next = LoadChunk<TDepth>(s, w, kTable, source, pixelSource, pixelRow, pixelCol, tid, threads, tileM, tileN, row0, 0);
            for (int k0 = 0; k0 < s.K; k0 += tileK)
            {
                TiledGemm.PutChunk(aTile, bTile, next);
                Group.Barrier();
                next = LoadChunk<TDepth>(s, w, kTable, source, pixelSource, pixelRow, pixelCol, tid, threads, tileM, tileN, row0, k0 + tileK);
                acc = default(TDepth).Vector ? TiledGemm.MultiplyTilesVector<TDepth>(acc, aTile, bTile, ty, tx, gr, gc) : TiledGemm.MultiplyTiles<TDepth>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        else
        {
            for (int k0 = 0; k0 < s.K; k0 += tileK)
            {
                // A and B chunks together: sixteen independent loads in flight per thread (one chunk per stage with 16×16 threads).
                for (int e = tid; e < loadEnd; e += 8 * threads)
                    TiledGemm.PutChunk(aTile, bTile, LoadChunk<TDepth>(s, w, kTable, source, pixelSource, pixelRow, pixelCol, e, threads, tileM, tileN, row0, k0));
                Group.Barrier();
                acc = default(TDepth).Vector ? TiledGemm.MultiplyTilesVector<TDepth>(acc, aTile, bTile, ty, tx, gr, gc) : TiledGemm.MultiplyTiles<TDepth>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        if (default(TDepth).Vector)
        {
            int vr = row0 + 4 * ty, vj = 4 * tx, half = 4 * gc;
            StoreRowVector(s, bias, destination, pixelDestination, vr, col0, vj, half, pixelMap, acc.R0);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 1, col0, vj, half, pixelMap, acc.R1);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 2, col0, vj, half, pixelMap, acc.R2);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 3, col0, vj, half, pixelMap, acc.R3);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 4 * gr, col0, vj, half, pixelMap, acc.R4);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 4 * gr + 1, col0, vj, half, pixelMap, acc.R5);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 4 * gr + 2, col0, vj, half, pixelMap, acc.R6);
            StoreRowVector(s, bias, destination, pixelDestination, vr + 4 * gr + 3, col0, vj, half, pixelMap, acc.R7);
            return;
        }
        int row = row0 + ty;
        StoreRow(s, bias, destination, pixelDestination, row, col0, tx, gc, pixelMap, acc.R0);
        StoreRow(s, bias, destination, pixelDestination, row + gr, col0, tx, gc, pixelMap, acc.R1);
        StoreRow(s, bias, destination, pixelDestination, row + 2 * gr, col0, tx, gc, pixelMap, acc.R2);
        StoreRow(s, bias, destination, pixelDestination, row + 3 * gr, col0, tx, gc, pixelMap, acc.R3);
        StoreRow(s, bias, destination, pixelDestination, row + 4 * gr, col0, tx, gc, pixelMap, acc.R4);
        StoreRow(s, bias, destination, pixelDestination, row + 5 * gr, col0, tx, gc, pixelMap, acc.R5);
        StoreRow(s, bias, destination, pixelDestination, row + 6 * gr, col0, tx, gc, pixelMap, acc.R6);
        StoreRow(s, bias, destination, pixelDestination, row + 7 * gr, col0, tx, gc, pixelMap, acc.R7);
    }

    /// <summary>Elements e, e + threads, …, e + 7·threads of the weight and gathered source tiles: sixteen independent loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Chunk LoadChunk<TDepth>(ConvGemmShape s, ArrayView<float> w, ArrayView<int> kTable, ArrayView<float> source,
        ArrayView<int> pixelSource, ArrayView<int> pixelRow, ArrayView<int> pixelCol, int e, int threads, int tileM, int tileN, int row0, int k0)
        where TDepth : struct, ITileDepth
    {
        Chunk x;
        x.A0 = StageWeight<TDepth>(s, w, e, tileM, row0, k0);
        x.A1 = StageWeight<TDepth>(s, w, e + threads, tileM, row0, k0);
        x.A2 = StageWeight<TDepth>(s, w, e + 2 * threads, tileM, row0, k0);
        x.A3 = StageWeight<TDepth>(s, w, e + 3 * threads, tileM, row0, k0);
        x.A4 = StageWeight<TDepth>(s, w, e + 4 * threads, tileM, row0, k0);
        x.A5 = StageWeight<TDepth>(s, w, e + 5 * threads, tileM, row0, k0);
        x.A6 = StageWeight<TDepth>(s, w, e + 6 * threads, tileM, row0, k0);
        x.A7 = StageWeight<TDepth>(s, w, e + 7 * threads, tileM, row0, k0);
        x.B0 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e, tileN, k0);
        x.B1 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + threads, tileN, k0);
        x.B2 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 2 * threads, tileN, k0);
        x.B3 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 3 * threads, tileN, k0);
        x.B4 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 4 * threads, tileN, k0);
        x.B5 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 5 * threads, tileN, k0);
        x.B6 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 6 * threads, tileN, k0);
        x.B7 = StageSource<TDepth>(s, kTable, source, pixelSource, pixelRow, pixelCol, e + 7 * threads, tileN, k0);
        return x;
    }

    /// <summary>Element e of the weight tile (tileM × TileK, loaded along the rows: packed[k·M + row]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Staged StageWeight<TDepth>(ConvGemmShape s, ArrayView<float> w, int e, int tileM, int row0, int k0)
        where TDepth : struct, ITileDepth
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileM * default(TDepth).TileK)
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
    static Staged StageSource<TDepth>(ConvGemmShape s, ArrayView<int> kTable, ArrayView<float> source, ArrayView<int> pixelSource,
        ArrayView<int> pixelRow, ArrayView<int> pixelCol, int e, int tileN, int k0) where TDepth : struct, ITileDepth
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileN * default(TDepth).TileK)
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(ConvGemmShape s, ArrayView<float> bias, ArrayView<float> destination, ArrayView<int> pixelDestination,
        int channel, int col0, int tx, int step, int pixelMap, Float8 r)
    {
        if (channel >= s.M) return;
        float add = s.HasBias != 0 ? bias[channel] : 0f;
        int channelOffset = channel * pixelMap;
        StoreOne(s, destination, pixelDestination, col0, tx, channelOffset, add, r.V0);
        StoreOne(s, destination, pixelDestination, col0, tx + step, channelOffset, add, r.V1);
        StoreOne(s, destination, pixelDestination, col0, tx + 2 * step, channelOffset, add, r.V2);
        StoreOne(s, destination, pixelDestination, col0, tx + 3 * step, channelOffset, add, r.V3);
        StoreOne(s, destination, pixelDestination, col0, tx + 4 * step, channelOffset, add, r.V4);
        StoreOne(s, destination, pixelDestination, col0, tx + 5 * step, channelOffset, add, r.V5);
        StoreOne(s, destination, pixelDestination, col0, tx + 6 * step, channelOffset, add, r.V6);
        StoreOne(s, destination, pixelDestination, col0, tx + 7 * step, channelOffset, add, r.V7);
    }

    /// <summary>Channel row of the vector layout: tile columns j + 0..3 (V0..V3) and j + half + 0..3 (V4..V7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRowVector(ConvGemmShape s, ArrayView<float> bias, ArrayView<float> destination, ArrayView<int> pixelDestination,
        int channel, int col0, int j, int half, int pixelMap, Float8 r)
    {
        if (channel >= s.M) return;
        float add = s.HasBias != 0 ? bias[channel] : 0f;
        int channelOffset = channel * pixelMap;
        StoreOne(s, destination, pixelDestination, col0, j, channelOffset, add, r.V0);
        StoreOne(s, destination, pixelDestination, col0, j + 1, channelOffset, add, r.V1);
        StoreOne(s, destination, pixelDestination, col0, j + 2, channelOffset, add, r.V2);
        StoreOne(s, destination, pixelDestination, col0, j + 3, channelOffset, add, r.V3);
        StoreOne(s, destination, pixelDestination, col0, j + half, channelOffset, add, r.V4);
        StoreOne(s, destination, pixelDestination, col0, j + half + 1, channelOffset, add, r.V5);
        StoreOne(s, destination, pixelDestination, col0, j + half + 2, channelOffset, add, r.V6);
        StoreOne(s, destination, pixelDestination, col0, j + half + 3, channelOffset, add, r.V7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreOne(ConvGemmShape s, ArrayView<float> destination, ArrayView<int> pixelDestination, int col0, int j,
        int channelOffset, float add, float acc)
    {
        if (col0 + j >= s.N) return;
        float v = acc + add;
        if (s.Relu != 0 && v < 0f) v = 0f;
        destination[pixelDestination[j] + channelOffset] = v;
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

    /// <summary>The tiled convolution kernel of <paramref name="variant"/> (<see cref="TilingOptions.Variant"/>).</summary>
    internal static Action<ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>> Kernel(int variant) => variant switch
    {
        0 => TiledConv.TiledConvKernel,
        1 => TiledConv.TiledConvKernelK8,
        2 => TiledConv.TiledConvKernelPrefetch,
        3 => TiledConv.TiledConvKernelK8Prefetch,
        4 => TiledConv.TiledConvKernelVec,
        5 => TiledConv.TiledConvKernelK8Vec,
        6 => TiledConv.TiledConvKernelPrefetchVec,
        _ => TiledConv.TiledConvKernelK8PrefetchVec,
    };

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
        var tiling = backend.GemmOp.Tiling;
        (s.GroupRows, s.GroupCols) = GemmOp.GroupShape(s.M, s.N, accelerator.MaxNumThreadsPerGroup, accelerator.NumMultiprocessors, tiling);
        int tileM = s.GroupRows * TiledGemm.Block, tileN = s.GroupCols * TiledGemm.Block;
        s.TileRowsShift = System.Numerics.BitOperations.Log2((uint)tileM);
        s.TileColsShift = System.Numerics.BitOperations.Log2((uint)tileN);
        s.ColumnGroups = (s.N + tileN - 1) / tileN;
        int groups = IlgpuBackend.Count(op, (long)s.ColumnGroups * ((s.M + tileM - 1) / tileM));
        int variant = tiling.Variant;
        var kernel = kernels[variant] ??= backend.LoadGroupedKernel<Action<AcceleratorStream, KernelConfig, ConvGemmShape, ArrayView<float>, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(Kernel(variant));
        kernel(backend.Stream, new KernelConfig(groups, s.GroupRows * s.GroupCols), s, packed.View, kTable.View, source, bias, destination);
    }

    public void Dispose()
    {
        backend.FreeFrozen(packed);
        backend.FreeFrozen(kTable);
    }
}
