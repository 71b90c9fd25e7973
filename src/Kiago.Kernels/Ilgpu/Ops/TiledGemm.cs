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
/// Compile-time options of a tiled kernel variant (a struct type argument, so ILGPU folds them to constants):
/// the K depth of one shared stage and whether the next stage is prefetched into registers.
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

/// <summary>K staged 16 deep (the default).</summary>
struct Depth16 : ITileDepth
{
    public readonly int TileK => 16;
    public readonly int TileKShift => 4;
    public readonly bool Prefetch => false;
    public readonly bool Vector => false;
}

/// <summary>K staged 8 deep.</summary>
struct Depth8 : ITileDepth
{
    public readonly int TileK => 8;
    public readonly int TileKShift => 3;
    public readonly bool Prefetch => false;
    public readonly bool Vector => false;
}

/// <summary>K staged 16 deep, next stage prefetched into registers.</summary>
struct Depth16Prefetch : ITileDepth
{
    public readonly int TileK => 16;
    public readonly int TileKShift => 4;
    public readonly bool Prefetch => true;
    public readonly bool Vector => false;
}

/// <summary>K staged 8 deep, next stage prefetched into registers.</summary>
struct Depth8Prefetch : ITileDepth
{
    public readonly int TileK => 8;
    public readonly int TileKShift => 3;
    public readonly bool Prefetch => true;
    public readonly bool Vector => false;
}

/// <summary>K staged 16 deep, float4 shared reads.</summary>
struct Depth16Vec : ITileDepth
{
    public readonly int TileK => 16;
    public readonly int TileKShift => 4;
    public readonly bool Prefetch => false;
    public readonly bool Vector => true;
}

/// <summary>K staged 8 deep, float4 shared reads.</summary>
struct Depth8Vec : ITileDepth
{
    public readonly int TileK => 8;
    public readonly int TileKShift => 3;
    public readonly bool Prefetch => false;
    public readonly bool Vector => true;
}

/// <summary>K staged 16 deep, prefetch, float4 shared reads.</summary>
struct Depth16PrefetchVec : ITileDepth
{
    public readonly int TileK => 16;
    public readonly int TileKShift => 4;
    public readonly bool Prefetch => true;
    public readonly bool Vector => true;
}

/// <summary>K staged 8 deep, prefetch, float4 shared reads.</summary>
struct Depth8PrefetchVec : ITileDepth
{
    public readonly int TileK => 8;
    public readonly int TileKShift => 3;
    public readonly bool Prefetch => true;
    public readonly bool Vector => true;
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
/// Shared-memory tiled SGEMM (explicitly grouped): a group of GroupRows × GroupCols threads owns a
/// (8·GroupRows) × (8·GroupCols) tile of C (128×128 with 16×16 threads on a GPU); each thread keeps an 8×8 block in
/// registers. Per K step of <see cref="ITileDepth.TileK"/> (16 by default) the group stages op(A) and op(B) tiles in shared memory (loaded so
/// consecutive threads read consecutive addresses for either transpose), then every thread does 64 multiply-adds per
/// 16 shared loads. A thread's rows and columns are interleaved (ty + i·GroupRows, tx + j·GroupCols), so a warp's
/// shared reads hit distinct banks or broadcast and its stores to C are coalesced. Out-of-range elements are staged as
/// zeros and skipped on store. The sums run over k in order, so results are deterministic.
/// </summary>
static class TiledGemm
{
    /// <summary>Register block per thread (rows and columns).</summary>
    public const int Block = 8;
    /// <summary>Deepest K stage (<see cref="Depth16"/>): the shared arrays are sized for it.</summary>
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

    /// <summary>Variant TiledKernel: K staged 16 deep (the default).</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernel(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        Body<Depth16>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelK8: K staged 8 deep.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelK8(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        Body<Depth8>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelPrefetch: K staged 16 deep, next stage prefetched into registers.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelPrefetch(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        Body<Depth16Prefetch>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelK8Prefetch: K staged 8 deep, next stage prefetched into registers.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelK8Prefetch(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(MaxTileK * SharedStride);
        Body<Depth8Prefetch>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelVec: K staged 16 deep, float4 shared reads.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelVec(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        Body<Depth16Vec>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelK8Vec: K staged 8 deep, float4 shared reads.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelK8Vec(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        Body<Depth8Vec>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelPrefetchVec: K staged 16 deep, prefetch, float4 shared reads.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelPrefetchVec(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        Body<Depth16PrefetchVec>(s, a, b, c, bias, aTile, bTile);
    }

    /// <summary>Variant TiledKernelK8PrefetchVec: K staged 8 deep, prefetch, float4 shared reads.</summary>
    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernelK8PrefetchVec(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        var bTile = SharedMemory.Allocate<Float4>(MaxTileK * SharedStride / 4).Cast<float>();
        Body<Depth8PrefetchVec>(s, a, b, c, bias, aTile, bTile);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Body<TDepth>(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias,
        ArrayView<float> aTile, ArrayView<float> bTile) where TDepth : struct, ITileDepth
    {
        int tileK = default(TDepth).TileK;
        int gr = s.GroupRows, gc = s.GroupCols;
        int threads = gr * gc, tid = Group.IdxX;
        int tx = tid % gc, ty = tid / gc;
        int tileM = gr * Block, tileN = gc * Block;
        int loadEnd = Math.Max(tileM, tileN) * tileK;
        int row0 = (Grid.IdxX / s.ColumnGroups) * tileM, col0 = (Grid.IdxX % s.ColumnGroups) * tileN;
        bool aAlongK = s.StrideAk == 1, bAlongJ = s.StrideBj == 1;
        Block8x8 acc = default;
        if (default(TDepth).Prefetch && loadEnd <= 8 * threads)
        {
            // One chunk holds a whole stage: stage k0 + tileK is read from global memory into registers before the
            // multiply of stage k0, so its latency hides behind the arithmetic (the last read finds k ≥ K: zeros, no access).
            var next = LoadChunk<TDepth>(s, a, b, tid, threads, tileM, tileN, row0, col0, 0, aAlongK, bAlongJ);
            for (int k0 = 0; k0 < s.K; k0 += tileK)
            {
                PutChunk(aTile, bTile, next);
                Group.Barrier();
                next = LoadChunk<TDepth>(s, a, b, tid, threads, tileM, tileN, row0, col0, k0 + tileK, aAlongK, bAlongJ);
                acc = default(TDepth).Vector ? MultiplyTilesVector<TDepth>(acc, aTile, bTile, ty, tx, gr, gc) : MultiplyTiles<TDepth>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        else
        {
            for (int k0 = 0; k0 < s.K; k0 += tileK)
            {
                // A and B chunks together: sixteen independent loads in flight per thread (one chunk per stage with 16×16 threads).
                for (int e = tid; e < loadEnd; e += 8 * threads)
                    PutChunk(aTile, bTile, LoadChunk<TDepth>(s, a, b, e, threads, tileM, tileN, row0, col0, k0, aAlongK, bAlongJ));
                Group.Barrier();
                acc = default(TDepth).Vector ? MultiplyTilesVector<TDepth>(acc, aTile, bTile, ty, tx, gr, gc) : MultiplyTiles<TDepth>(acc, aTile, bTile, ty, tx, gr, gc);
                Group.Barrier();
            }
        }
        if (default(TDepth).Vector)
        {
            int vr = row0 + 4 * ty, vc = col0 + 4 * tx, half = 4 * gc;
            StoreRowVector(s, c, bias, vr, vc, half, acc.R0);
            StoreRowVector(s, c, bias, vr + 1, vc, half, acc.R1);
            StoreRowVector(s, c, bias, vr + 2, vc, half, acc.R2);
            StoreRowVector(s, c, bias, vr + 3, vc, half, acc.R3);
            StoreRowVector(s, c, bias, vr + 4 * gr, vc, half, acc.R4);
            StoreRowVector(s, c, bias, vr + 4 * gr + 1, vc, half, acc.R5);
            StoreRowVector(s, c, bias, vr + 4 * gr + 2, vc, half, acc.R6);
            StoreRowVector(s, c, bias, vr + 4 * gr + 3, vc, half, acc.R7);
            return;
        }
        int row = row0 + ty, col = col0 + tx;
        StoreRow(s, c, bias, row, col, gc, acc.R0);
        StoreRow(s, c, bias, row + gr, col, gc, acc.R1);
        StoreRow(s, c, bias, row + 2 * gr, col, gc, acc.R2);
        StoreRow(s, c, bias, row + 3 * gr, col, gc, acc.R3);
        StoreRow(s, c, bias, row + 4 * gr, col, gc, acc.R4);
        StoreRow(s, c, bias, row + 5 * gr, col, gc, acc.R5);
        StoreRow(s, c, bias, row + 6 * gr, col, gc, acc.R6);
        StoreRow(s, c, bias, row + 7 * gr, col, gc, acc.R7);
    }

    /// <summary>Elements e, e + threads, …, e + 7·threads of both staged tiles: sixteen independent loads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Chunk LoadChunk<TDepth>(GemmShape s, ArrayView<float> a, ArrayView<float> b, int e, int threads, int tileM, int tileN,
        int row0, int col0, int k0, bool aAlongK, bool bAlongJ) where TDepth : struct, ITileDepth
    {
        Chunk x;
        x.A0 = StageA<TDepth>(s, a, e, tileM, row0, k0, aAlongK);
        x.A1 = StageA<TDepth>(s, a, e + threads, tileM, row0, k0, aAlongK);
        x.A2 = StageA<TDepth>(s, a, e + 2 * threads, tileM, row0, k0, aAlongK);
        x.A3 = StageA<TDepth>(s, a, e + 3 * threads, tileM, row0, k0, aAlongK);
        x.A4 = StageA<TDepth>(s, a, e + 4 * threads, tileM, row0, k0, aAlongK);
        x.A5 = StageA<TDepth>(s, a, e + 5 * threads, tileM, row0, k0, aAlongK);
        x.A6 = StageA<TDepth>(s, a, e + 6 * threads, tileM, row0, k0, aAlongK);
        x.A7 = StageA<TDepth>(s, a, e + 7 * threads, tileM, row0, k0, aAlongK);
        x.B0 = StageB<TDepth>(s, b, e, tileN, col0, k0, bAlongJ);
        x.B1 = StageB<TDepth>(s, b, e + threads, tileN, col0, k0, bAlongJ);
        x.B2 = StageB<TDepth>(s, b, e + 2 * threads, tileN, col0, k0, bAlongJ);
        x.B3 = StageB<TDepth>(s, b, e + 3 * threads, tileN, col0, k0, bAlongJ);
        x.B4 = StageB<TDepth>(s, b, e + 4 * threads, tileN, col0, k0, bAlongJ);
        x.B5 = StageB<TDepth>(s, b, e + 5 * threads, tileN, col0, k0, bAlongJ);
        x.B6 = StageB<TDepth>(s, b, e + 6 * threads, tileN, col0, k0, bAlongJ);
        x.B7 = StageB<TDepth>(s, b, e + 7 * threads, tileN, col0, k0, bAlongJ);
        return x;
    }

    /// <summary>Stores a loaded chunk into the shared tiles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void PutChunk(ArrayView<float> aTile, ArrayView<float> bTile, Chunk x)
    {
        Put(aTile, x.A0); Put(aTile, x.A1); Put(aTile, x.A2); Put(aTile, x.A3);
        Put(aTile, x.A4); Put(aTile, x.A5); Put(aTile, x.A6); Put(aTile, x.A7);
        Put(bTile, x.B0); Put(bTile, x.B1); Put(bTile, x.B2); Put(bTile, x.B3);
        Put(bTile, x.B4); Put(bTile, x.B5); Put(bTile, x.B6); Put(bTile, x.B7);
    }

    /// <summary>Element e of the op(A) tile (tileM × TileK, loaded along k when A's k stride is 1): its value (0 outside A) and shared slot (−1 past the tile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Staged StageA<TDepth>(GemmShape s, ArrayView<float> a, int e, int tileM, int row0, int k0, bool aAlongK)
        where TDepth : struct, ITileDepth
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        int tileK = default(TDepth).TileK;
        if (e < tileM * tileK)
        {
            int i, kk;
            if (aAlongK) { kk = e & (tileK - 1); i = e >> default(TDepth).TileKShift; }
            else { i = e & (tileM - 1); kk = e >> s.TileRowsShift; }
            int gi = row0 + i, gk = k0 + kk;
            x.Slot = kk * SharedStride + i;
            if (gi < s.M && gk < s.K) x.Value = a[gi * s.StrideAi + gk * s.StrideAk];
        }
        return x;
    }

    /// <summary>Element e of the op(B) tile (TileK × tileN, loaded along j when B's j stride is 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Staged StageB<TDepth>(GemmShape s, ArrayView<float> b, int e, int tileN, int col0, int k0, bool bAlongJ)
        where TDepth : struct, ITileDepth
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        int tileK = default(TDepth).TileK;
        if (e < tileN * tileK)
        {
            int j, kk;
            if (bAlongJ) { j = e & (tileN - 1); kk = e >> s.TileColsShift; }
            else { kk = e & (tileK - 1); j = e >> default(TDepth).TileKShift; }
            int gj = col0 + j, gk = k0 + kk;
            x.Slot = kk * SharedStride + j;
            if (gj < s.N && gk < s.K) x.Value = b[gk * s.StrideBk + gj * s.StrideBj];
        }
        return x;
    }

    /// <summary>Stores a staged element into its shared tile (nothing for an element past the tile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Put(ArrayView<float> tile, Staged x)
    {
        if (x.Slot >= 0) tile[x.Slot] = x.Value;
    }

    /// <summary>
    /// One shared-memory stage: acc += aTile[:, rows ty + i·gr]ᵀ · bTile[:, columns tx + j·gc] over the
    /// <see cref="ITileDepth.TileK"/> staged k (both tiles stored k-major with row stride <see cref="SharedStride"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Block8x8 MultiplyTiles<TDepth>(Block8x8 acc, ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx, int gr, int gc)
        where TDepth : struct, ITileDepth
    {
        int tileK = default(TDepth).TileK;
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
    /// <see cref="MultiplyTiles{TDepth}"/> for the <see cref="ITileDepth.Vector"/> layout: the thread's rows are
    /// 4·ty + 0..3 and 4·(gr + ty) + 0..3 (R0..R7), its columns 4·tx + 0..3 and 4·(gc + tx) + 0..3 (V0..V7), each run
    /// read as one float4 (tiles 16-byte aligned, row stride <see cref="SharedStride"/> a multiple of 4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Block8x8 MultiplyTilesVector<TDepth>(Block8x8 acc, ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx, int gr, int gc)
        where TDepth : struct, ITileDepth
    {
        int tileK = default(TDepth).TileK;
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

    /// <summary>Row <paramref name="row"/> of the vector layout: columns col + 0..3 (V0..V3) and col + half + 0..3 (V4..V7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRowVector(GemmShape s, ArrayView<float> c, ArrayView<float> bias, int row, int col, int half, Float8 r)
    {
        if (row >= s.M) return;
        int rowBase = row * s.N;
        StoreOne(s, c, bias, rowBase, col, r.V0);
        StoreOne(s, c, bias, rowBase, col + 1, r.V1);
        StoreOne(s, c, bias, rowBase, col + 2, r.V2);
        StoreOne(s, c, bias, rowBase, col + 3, r.V3);
        StoreOne(s, c, bias, rowBase, col + half, r.V4);
        StoreOne(s, c, bias, rowBase, col + half + 1, r.V5);
        StoreOne(s, c, bias, rowBase, col + half + 2, r.V6);
        StoreOne(s, c, bias, rowBase, col + half + 3, r.V7);
    }

    // Plain a*b + c (engine-notes §1: never MathF.FusedMultiplyAdd); ptxas contracts it to an FMA.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Float8 MultiplyAdd(Float8 r, float x, Float8 y)
    {
        r.V0 += x * y.V0; r.V1 += x * y.V1; r.V2 += x * y.V2; r.V3 += x * y.V3;
        r.V4 += x * y.V4; r.V5 += x * y.V5; r.V6 += x * y.V6; r.V7 += x * y.V7;
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreRow(GemmShape s, ArrayView<float> c, ArrayView<float> bias, int row, int col, int step, Float8 r)
    {
        if (row >= s.M) return;
        int rowBase = row * s.N;
        StoreOne(s, c, bias, rowBase, col, r.V0);
        StoreOne(s, c, bias, rowBase, col + step, r.V1);
        StoreOne(s, c, bias, rowBase, col + 2 * step, r.V2);
        StoreOne(s, c, bias, rowBase, col + 3 * step, r.V3);
        StoreOne(s, c, bias, rowBase, col + 4 * step, r.V4);
        StoreOne(s, c, bias, rowBase, col + 5 * step, r.V5);
        StoreOne(s, c, bias, rowBase, col + 6 * step, r.V6);
        StoreOne(s, c, bias, rowBase, col + 7 * step, r.V7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreOne(GemmShape s, ArrayView<float> c, ArrayView<float> bias, int rowBase, int col, float acc)
    {
        if (col >= s.N) return;
        float v = s.Alpha * acc;
        if (s.Beta != 0f) v += s.Beta * c[rowBase + col];
        if (s.HasBias != 0) v += bias[col];
        if (s.Relu != 0 && v < 0f) v = 0f;
        c[rowBase + col] = v;
    }
}
