using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>Eight accumulators (one row of a thread's 8×8 block, or eight B values): a struct ILGPU keeps in registers.</summary>
struct Float8
{
    public float V0, V1, V2, V3, V4, V5, V6, V7;
}

/// <summary>One element on its way from global to shared memory: the value and its shared slot (−1: none).</summary>
struct Staged
{
    public float Value;
    public int Slot;
}

/// <summary>Sixteen staged elements (eight of op(A)'s tile, eight of op(B)'s) loaded together: kept in registers.</summary>
struct Chunk
{
    public Staged A0, A1, A2, A3, A4, A5, A6, A7, B0, B1, B2, B3, B4, B5, B6, B7;
}

/// <summary>
/// Compile-time options of a tiled kernel variant (a struct type argument, so ILGPU folds them to constants),
/// composed by <see cref="Tiling{TDepth, TPrefetch, TReads}"/> from one marker per option.
/// </summary>
interface ITileDepth
{
    /// <summary>K depth of one shared-memory stage (a power of two, at most <see cref="TiledGemm.MaxTileK"/>).</summary>
    int TileK { get; }
    /// <summary>log2(<see cref="TileK"/>).</summary>
    int TileKShift { get; }
    /// <summary>Load stage k + 1 into registers while multiplying stage k (when one chunk holds a stage).</summary>
    bool Prefetch { get; }
    /// <summary>
    /// Each thread owns two 4-row × two 4-column runs of C (rows 4·ty + i and 4·(GroupRows + ty) + i, likewise columns),
    /// read from shared memory as float4: 4 shared loads per 64 multiply-adds instead of 16 (the tiles are 16-byte aligned).
    /// </summary>
    bool Vector { get; }
}

/// <summary>Marker of the K depth of one shared stage.</summary>
interface IStageDepth
{
    int TileK { get; }
    int TileKShift { get; }
}

/// <summary>K staged 16 deep (the default).</summary>
struct K16 : IStageDepth
{
    public readonly int TileK => 16;
    public readonly int TileKShift => 4;
}

/// <summary>K staged 8 deep.</summary>
struct K8 : IStageDepth
{
    public readonly int TileK => 8;
    public readonly int TileKShift => 3;
}

/// <summary>Marker of an on/off option.</summary>
interface ISwitch
{
    bool On { get; }
}

/// <summary>The next K stage is read into registers while the current one is multiplied.</summary>
struct Prefetch : ISwitch
{
    public readonly bool On => true;
}

/// <summary>Each stage is read after the previous one is multiplied (the default).</summary>
struct NoPrefetch : ISwitch
{
    public readonly bool On => false;
}

/// <summary>Shared tiles read as float4 (the vector layout).</summary>
struct Float4Reads : ISwitch
{
    public readonly bool On => true;
}

/// <summary>Shared tiles read one float at a time (the default).</summary>
struct ScalarReads : ISwitch
{
    public readonly bool On => false;
}

/// <summary>One tiled-kernel variant: a K depth, a prefetch switch and a shared-read layout.</summary>
struct Tiling<TDepth, TPrefetch, TReads> : ITileDepth
    where TDepth : struct, IStageDepth where TPrefetch : struct, ISwitch where TReads : struct, ISwitch
{
    public readonly int TileK => default(TDepth).TileK;
    public readonly int TileKShift => default(TDepth).TileKShift;
    public readonly bool Prefetch => default(TPrefetch).On;
    public readonly bool Vector => default(TReads).On;
}

/// <summary>Four floats read from shared memory with one 16-byte load (ILGPU emits ld.shared.v4.f32).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 16)]
struct Float4
{
    public float X, Y, Z, W;
}

/// <summary>A thread's 8×8 block of accumulators (row i = R<i>i</i>).</summary>
struct Block8x8
{
    public Float8 R0, R1, R2, R3, R4, R5, R6, R7;
}

/// <summary>
/// What a tiled product reads and writes, so that GEMM and convolution share one tile loop
/// (<see cref="TiledGemm.Run{TTiling, TOperands}"/>): how an element of the op(A) and op(B) tiles is staged, and how
/// one accumulated element of C is stored. A struct type argument: ILGPU inlines the calls.
/// </summary>
interface ITileOperands
{
    /// <summary>Rows of C (for the row test before a row is stored).</summary>
    int Rows { get; }
    /// <summary>The K extent summed over.</summary>
    int Depth { get; }
    /// <summary>Element e of the op(A) tile (tileM × tileK): value (0 outside A) and shared slot (−1 past the tile).</summary>
    Staged StageA(int e, int tileM, int tileK, int tileKShift, int row0, int k0);
    /// <summary>Element e of the op(B) tile (tileK × tileN).</summary>
    Staged StageB(int e, int tileN, int tileK, int tileKShift, int col0, int k0);
    /// <summary>What every element of row <paramref name="row"/> adds before it is stored (a per-row bias, or 0).</summary>
    float RowAdd(int row);
    /// <summary>Stores accumulator <paramref name="acc"/> of C[row, col0 + j] (tile column j; nothing past the last column).</summary>
    void Store(int row, float rowAdd, int col0, int j, float acc);
}

/// <summary>
/// Shared-memory tiled SGEMM (explicitly grouped): a group of GroupRows × GroupCols threads owns a
/// (8·GroupRows) × (8·GroupCols) tile of C (128×128 with 16×16 threads on a GPU); each thread keeps an 8×8 block in
/// registers. Per K step of <see cref="ITileDepth.TileK"/> (16 by default) the group stages op(A) and op(B) tiles in shared memory (loaded so
/// consecutive threads read consecutive addresses for either transpose), then every thread does 64 multiply-adds per
/// 16 shared loads. A thread's rows and columns are interleaved (ty + i·GroupRows, tx + j·GroupCols), so a warp's
/// shared reads hit distinct banks or broadcast and its stores to C are coalesced. Out-of-range elements are staged as
/// zeros and skipped on store. The sums run over k in order, so results are deterministic. The tile loop
/// (<see cref="Run{TTiling, TOperands}"/>) is shared with <see cref="TiledConv"/>.
/// </summary>
static class TiledGemm
{
    /// <summary>Register block per thread (rows and columns).</summary>
    public const int Block = 8;
    /// <summary>Deepest K stage (<see cref="K16"/>): the shared arrays are sized for it.</summary>
    public const int MaxTileK = 16;
    /// <summary>Largest tile side (16 threads × 8): the shared arrays are sized for it.</summary>
    public const int MaxTile = 128;
    /// <summary>Row stride of the shared tiles: padded so that threads storing along k hit different banks.</summary>
    public const int SharedStride = MaxTile + 4;

    /// <summary>
    /// Whether a prefetch variant really prefetches with these groups: one chunk (eight loads of each tile per thread)
    /// must hold a whole stage, max(tile rows, tile columns)·TileK ≤ 8·threads; otherwise it runs the plain K loop.
    /// </summary>
    internal static bool PrefetchApplies(int groupRows, int groupCols, int tileK) =>
        Math.Max(groupRows, groupCols) * Block * tileK <= 8 * groupRows * groupCols;

    /// <summary>
    /// The tiled GEMM, one compiled kernel per <see cref="TilingOptions"/> variant (type arguments
    /// <see cref="TilingOptions.KernelTypeArguments"/>; all listed by <see cref="TilingOptions.KernelVariants"/>).
    /// </summary>
    [IlgpuKernel(ExplicitlyGrouped = true, Variants = typeof(TilingOptions))]
    internal static void TiledKernel<TDepth, TPrefetch, TReads>(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
        where TDepth : struct, IStageDepth where TPrefetch : struct, ISwitch where TReads : struct, ISwitch =>
        Run<Tiling<TDepth, TPrefetch, TReads>, GemmOperands>(new GemmOperands(s, a, b, c, bias), s.GroupRows, s.GroupCols, s.ColumnGroups);

    /// <summary>
    /// The tile loop of one group: stages op(A) and op(B) through shared memory stage by stage (prefetching the next
    /// stage into registers when the variant asks and one chunk holds a stage), multiplies, then stores the thread's block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Run<TTiling, TOperands>(TOperands op, int gr, int gc, int columnGroups)
        where TTiling : struct, ITileDepth where TOperands : struct, ITileOperands
    {
        if (default(TTiling).Vector)
        {
            var aTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
            var bTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
            Run<TTiling, TOperands>(op, gr, gc, columnGroups, aTile, bTile);
        }
        else
        {
            var aTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
            var bTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
            Run<TTiling, TOperands>(op, gr, gc, columnGroups, aTile, bTile);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Run<TTiling, TOperands>(TOperands op, int gr, int gc, int columnGroups, ArrayView<float> aTile, ArrayView<float> bTile)
        where TTiling : struct, ITileDepth where TOperands : struct, ITileOperands
    {
        int tileK = default(TTiling).TileK;
        int threads = gr * gc, tid = Group.IdxX;
        int tx = tid % gc, ty = tid / gc;
        int tileM = gr * Block, tileN = gc * Block;
        int loadEnd = Math.Max(tileM, tileN) * tileK;
        int row0 = (Grid.IdxX / columnGroups) * tileM, col0 = (Grid.IdxX % columnGroups) * tileN;
        Block8x8 acc = default;
        if (default(TTiling).Prefetch && loadEnd <= 8 * threads)
        {
            // One chunk holds a whole stage: stage k0 + tileK is read from global memory into registers before the
            // multiply of stage k0, so its latency hides behind the arithmetic (the last read finds k ≥ K: zeros, no access).
            var next = LoadChunk<TTiling, TOperands>(op, tid, threads, tileM, tileN, row0, col0, 0);
            for (int k0 = 0; k0 < op.Depth; k0 += tileK)
            {
                PutChunk(aTile, bTile, next);
                Group.Barrier();
                next = LoadChunk<TTiling, TOperands>(op, tid, threads, tileM, tileN, row0, col0, k0 + tileK);
                acc = default(TTiling).Vector ? MultiplyTilesVector<TTiling>(acc, aTile, bTile, ty, tx, gr, gc) : MultiplyTiles<TTiling>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        else
        {
            for (int k0 = 0; k0 < op.Depth; k0 += tileK)
            {
                // A and B chunks together: sixteen independent loads in flight per thread (one chunk per stage with 16×16 threads).
                for (int e = tid; e < loadEnd; e += 8 * threads)
                    PutChunk(aTile, bTile, LoadChunk<TTiling, TOperands>(op, e, threads, tileM, tileN, row0, col0, k0));
                Group.Barrier();
                acc = default(TTiling).Vector ? MultiplyTilesVector<TTiling>(acc, aTile, bTile, ty, tx, gr, gc) : MultiplyTiles<TTiling>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        // The thread's rows are first + (i & 3)·inner + (i >> 2)·outer for i = 0..7, likewise its columns: interleaved
        // (ty + i·gr) in the scalar layout, two runs of four (4·ty + 0..3, 4·(gr + ty) + 0..3) in the vector layout.
        bool vector = default(TTiling).Vector;
        int firstRow = row0 + (vector ? 4 * ty : ty), rowInner = vector ? 1 : gr;
        int firstColumn = vector ? 4 * tx : tx, columnInner = vector ? 1 : gc;
        StoreRow(op, firstRow, col0, firstColumn, columnInner, 4 * gc, acc.R0);
        StoreRow(op, firstRow + rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R1);
        StoreRow(op, firstRow + 2 * rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R2);
        StoreRow(op, firstRow + 3 * rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R3);
        StoreRow(op, firstRow + 4 * gr, col0, firstColumn, columnInner, 4 * gc, acc.R4);
        StoreRow(op, firstRow + 4 * gr + rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R5);
        StoreRow(op, firstRow + 4 * gr + 2 * rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R6);
        StoreRow(op, firstRow + 4 * gr + 3 * rowInner, col0, firstColumn, columnInner, 4 * gc, acc.R7);
    }

    /// <summary>Elements e, e + threads, …, e + 7·threads of both staged tiles: sixteen independent loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Chunk LoadChunk<TTiling, TOperands>(TOperands op, int e, int threads, int tileM, int tileN, int row0, int col0, int k0)
        where TTiling : struct, ITileDepth where TOperands : struct, ITileOperands
    {
        int k = default(TTiling).TileK, shift = default(TTiling).TileKShift;
        Chunk x;
        x.A0 = op.StageA(e, tileM, k, shift, row0, k0);
        x.A1 = op.StageA(e + threads, tileM, k, shift, row0, k0);
        x.A2 = op.StageA(e + 2 * threads, tileM, k, shift, row0, k0);
        x.A3 = op.StageA(e + 3 * threads, tileM, k, shift, row0, k0);
        x.A4 = op.StageA(e + 4 * threads, tileM, k, shift, row0, k0);
        x.A5 = op.StageA(e + 5 * threads, tileM, k, shift, row0, k0);
        x.A6 = op.StageA(e + 6 * threads, tileM, k, shift, row0, k0);
        x.A7 = op.StageA(e + 7 * threads, tileM, k, shift, row0, k0);
        x.B0 = op.StageB(e, tileN, k, shift, col0, k0);
        x.B1 = op.StageB(e + threads, tileN, k, shift, col0, k0);
        x.B2 = op.StageB(e + 2 * threads, tileN, k, shift, col0, k0);
        x.B3 = op.StageB(e + 3 * threads, tileN, k, shift, col0, k0);
        x.B4 = op.StageB(e + 4 * threads, tileN, k, shift, col0, k0);
        x.B5 = op.StageB(e + 5 * threads, tileN, k, shift, col0, k0);
        x.B6 = op.StageB(e + 6 * threads, tileN, k, shift, col0, k0);
        x.B7 = op.StageB(e + 7 * threads, tileN, k, shift, col0, k0);
        return x;
    }

    /// <summary>Stores a loaded chunk into the shared tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void PutChunk(ArrayView<float> aTile, ArrayView<float> bTile, Chunk x)
    {
        Put(aTile, x.A0); Put(aTile, x.A1); Put(aTile, x.A2); Put(aTile, x.A3);
        Put(aTile, x.A4); Put(aTile, x.A5); Put(aTile, x.A6); Put(aTile, x.A7);
        Put(bTile, x.B0); Put(bTile, x.B1); Put(bTile, x.B2); Put(bTile, x.B3);
        Put(bTile, x.B4); Put(bTile, x.B5); Put(bTile, x.B6); Put(bTile, x.B7);
    }

    /// <summary>Stores a staged element into its shared tile (nothing for an element past the tile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Put(ArrayView<float> tile, Staged x)
    {
        if (x.Slot >= 0) tile[x.Slot] = x.Value;
    }

    /// <summary>
    /// One shared-memory stage: acc += aTile[:, rows ty + i·gr]ᵀ · bTile[:, columns tx + j·gc] over the
    /// <see cref="ITileDepth.TileK"/> staged k (both tiles stored k-major with row stride <see cref="SharedStride"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Block8x8 MultiplyTiles<TTiling>(Block8x8 acc, ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx, int gr, int gc)
        where TTiling : struct, ITileDepth
    {
        int tileK = default(TTiling).TileK;
        for (int kk = 0; kk < tileK; kk++)
        {
            int ao = kk * SharedStride + ty, bo = kk * SharedStride + tx;
            Float8 y;
            y.V0 = bTile[bo]; y.V1 = bTile[bo + gc]; y.V2 = bTile[bo + 2 * gc]; y.V3 = bTile[bo + 3 * gc];
            y.V4 = bTile[bo + 4 * gc]; y.V5 = bTile[bo + 5 * gc]; y.V6 = bTile[bo + 6 * gc]; y.V7 = bTile[bo + 7 * gc];
            acc.R0 = MultiplyAdd(acc.R0, aTile[ao], y);
            acc.R1 = MultiplyAdd(acc.R1, aTile[ao + gr], y);
            acc.R2 = MultiplyAdd(acc.R2, aTile[ao + 2 * gr], y);
            acc.R3 = MultiplyAdd(acc.R3, aTile[ao + 3 * gr], y);
            acc.R4 = MultiplyAdd(acc.R4, aTile[ao + 4 * gr], y);
            acc.R5 = MultiplyAdd(acc.R5, aTile[ao + 5 * gr], y);
            acc.R6 = MultiplyAdd(acc.R6, aTile[ao + 6 * gr], y);
            acc.R7 = MultiplyAdd(acc.R7, aTile[ao + 7 * gr], y);
        }
        return acc;
    }

    /// <summary>
    /// <see cref="MultiplyTiles{TTiling}"/> for the <see cref="ITileDepth.Vector"/> layout: the thread's rows are
    /// 4·ty + 0..3 and 4·(gr + ty) + 0..3 (R0..R7), its columns 4·tx + 0..3 and 4·(gc + tx) + 0..3 (V0..V7), each run
    /// read as one float4 (tiles 16-byte aligned, row stride <see cref="SharedStride"/> a multiple of 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Block8x8 MultiplyTilesVector<TTiling>(Block8x8 acc, ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx, int gr, int gc)
        where TTiling : struct, ITileDepth
    {
        int tileK = default(TTiling).TileK;
        var a4 = aTile.Cast<Float4>();
        var b4 = bTile.Cast<Float4>();
        for (int kk = 0; kk < tileK; kk++)
        {
            int ao = kk * (SharedStride / 4) + ty, bo = kk * (SharedStride / 4) + tx;
            Float4 x0 = a4[ao], x1 = a4[ao + gr], y0 = b4[bo], y1 = b4[bo + gc];
            Float8 y;
            y.V0 = y0.X; y.V1 = y0.Y; y.V2 = y0.Z; y.V3 = y0.W;
            y.V4 = y1.X; y.V5 = y1.Y; y.V6 = y1.Z; y.V7 = y1.W;
            acc.R0 = MultiplyAdd(acc.R0, x0.X, y);
            acc.R1 = MultiplyAdd(acc.R1, x0.Y, y);
            acc.R2 = MultiplyAdd(acc.R2, x0.Z, y);
            acc.R3 = MultiplyAdd(acc.R3, x0.W, y);
            acc.R4 = MultiplyAdd(acc.R4, x1.X, y);
            acc.R5 = MultiplyAdd(acc.R5, x1.Y, y);
            acc.R6 = MultiplyAdd(acc.R6, x1.Z, y);
            acc.R7 = MultiplyAdd(acc.R7, x1.W, y);
        }
        return acc;
    }

    // Plain a*b + c (engine-notes §1: never MathF.FusedMultiplyAdd); ptxas contracts it to an FMA.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Float8 MultiplyAdd(Float8 r, float x, Float8 y)
    {
        r.V0 += x * y.V0; r.V1 += x * y.V1; r.V2 += x * y.V2; r.V3 += x * y.V3;
        r.V4 += x * y.V4; r.V5 += x * y.V5; r.V6 += x * y.V6; r.V7 += x * y.V7;
        return r;
    }

    /// <summary>Row <paramref name="row"/> of the thread's block: tile columns first + {0..3}·inner and first + outer + {0..3}·inner.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow<TOperands>(TOperands op, int row, int col0, int first, int inner, int outer, Float8 r) where TOperands : struct, ITileOperands
    {
        if (row >= op.Rows) return;
        float add = op.RowAdd(row);
        op.Store(row, add, col0, first, r.V0);
        op.Store(row, add, col0, first + inner, r.V1);
        op.Store(row, add, col0, first + 2 * inner, r.V2);
        op.Store(row, add, col0, first + 3 * inner, r.V3);
        op.Store(row, add, col0, first + outer, r.V4);
        op.Store(row, add, col0, first + outer + inner, r.V5);
        op.Store(row, add, col0, first + outer + 2 * inner, r.V6);
        op.Store(row, add, col0, first + outer + 3 * inner, r.V7);
    }
}

/// <summary>The operands of a plain GEMM: strided op(A) and op(B), C row-major with the α/β/bias/ReLU epilogue.</summary>
readonly struct GemmOperands(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias) : ITileOperands
{
    public int Rows => s.M;
    public int Depth => s.K;

    /// <summary>Loaded along k when A's k stride is 1, else along the rows, so consecutive threads read consecutive addresses.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Staged StageA(int e, int tileM, int tileK, int tileKShift, int row0, int k0)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileM * tileK)
        {
            int i, kk;
            if (s.StrideAk == 1) { kk = e & (tileK - 1); i = e >> tileKShift; }
            else { i = e & (tileM - 1); kk = e >> s.TileRowsShift; }
            int gi = row0 + i, gk = k0 + kk;
            x.Slot = kk * TiledGemm.SharedStride + i;
            if (gi < s.M && gk < s.K) x.Value = a[gi * s.StrideAi + gk * s.StrideAk];
        }
        return x;
    }

    /// <summary>Loaded along j when B's j stride is 1, else along k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Staged StageB(int e, int tileN, int tileK, int tileKShift, int col0, int k0)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileN * tileK)
        {
            int j, kk;
            if (s.StrideBj == 1) { j = e & (tileN - 1); kk = e >> s.TileColsShift; }
            else { kk = e & (tileK - 1); j = e >> tileKShift; }
            int gj = col0 + j, gk = k0 + kk;
            x.Slot = kk * TiledGemm.SharedStride + j;
            if (gj < s.N && gk < s.K) x.Value = b[gk * s.StrideBk + gj * s.StrideBj];
        }
        return x;
    }

    public float RowAdd(int row) => 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int row, float rowAdd, int col0, int j, float acc)
    {
        int col = col0 + j;
        if (col >= s.N) return;
        int index = row * s.N + col;
        float v = s.Alpha * acc;
        if (s.Beta != 0f) v += s.Beta * c[index];
        if (s.HasBias != 0) v += bias[col];
        if (s.Relu != 0 && v < 0f) v = 0f;
        c[index] = v;
    }
}
