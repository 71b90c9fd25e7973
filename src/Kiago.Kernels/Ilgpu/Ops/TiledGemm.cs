using System.Runtime.CompilerServices;
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

/// <summary>A thread's 8×8 block of accumulators (row i = R<i>i</i>).</summary>
struct Block8x8
{
    public Float8 R0, R1, R2, R3, R4, R5, R6, R7;
}

/// <summary>
/// Shared-memory tiled SGEMM (explicitly grouped): a group of GroupRows × GroupCols threads owns a
/// (8·GroupRows) × (8·GroupCols) tile of C (128×128 with 16×16 threads on a GPU); each thread keeps an 8×8 block in
/// registers. Per K step of <see cref="TileK"/> the group stages op(A) and op(B) tiles in shared memory (loaded so
/// consecutive threads read consecutive addresses for either transpose), then every thread does 64 multiply-adds per
/// 16 shared loads. A thread's rows and columns are interleaved (ty + i·GroupRows, tx + j·GroupCols), so a warp's
/// shared reads hit distinct banks or broadcast and its stores to C are coalesced. Out-of-range elements are staged as
/// zeros and skipped on store. The sums run over k in order, so results are deterministic.
/// </summary>
static class TiledGemm
{
    /// <summary>Register block per thread (rows and columns).</summary>
    public const int Block = 8;
    /// <summary>K depth of one shared-memory stage.</summary>
    public const int TileK = 16;
    /// <summary>log2(<see cref="TileK"/>).</summary>
    public const int TileKShift = 4;
    /// <summary>Largest tile side (16 threads × 8): the shared arrays are sized for it.</summary>
    public const int MaxTile = 128;
    /// <summary>Row stride of the shared tiles: padded so that threads storing along k hit different banks.</summary>
    public const int SharedStride = MaxTile + 4;

    [IlgpuKernel(ExplicitlyGrouped = true)]
    internal static void TiledKernel(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var aTile = SharedMemory.Allocate<float>(TileK * SharedStride);
        var bTile = SharedMemory.Allocate<float>(TileK * SharedStride);
        int gr = s.GroupRows, gc = s.GroupCols;
        int threads = gr * gc, tid = Group.IdxX;
        int tx = tid % gc, ty = tid / gc;
        int tileM = gr * Block, tileN = gc * Block;
        int loadEnd = Math.Max(tileM, tileN) * TileK;
        int row0 = (Grid.IdxX / s.ColumnGroups) * tileM, col0 = (Grid.IdxX % s.ColumnGroups) * tileN;
        bool aAlongK = s.StrideAk == 1, bAlongJ = s.StrideBj == 1;
        Block8x8 acc = default;
        for (int k0 = 0; k0 < s.K; k0 += TileK)
        {
            // A and B chunks together: sixteen independent loads in flight per thread (one chunk per stage with 16×16 threads).
            for (int e = tid; e < loadEnd; e += 8 * threads)
            {
                var x0 = StageA(s, a, e, tileM, row0, k0, aAlongK);
                var x1 = StageA(s, a, e + threads, tileM, row0, k0, aAlongK);
                var x2 = StageA(s, a, e + 2 * threads, tileM, row0, k0, aAlongK);
                var x3 = StageA(s, a, e + 3 * threads, tileM, row0, k0, aAlongK);
                var x4 = StageA(s, a, e + 4 * threads, tileM, row0, k0, aAlongK);
                var x5 = StageA(s, a, e + 5 * threads, tileM, row0, k0, aAlongK);
                var x6 = StageA(s, a, e + 6 * threads, tileM, row0, k0, aAlongK);
                var x7 = StageA(s, a, e + 7 * threads, tileM, row0, k0, aAlongK);
                var y0 = StageB(s, b, e, tileN, col0, k0, bAlongJ);
                var y1 = StageB(s, b, e + threads, tileN, col0, k0, bAlongJ);
                var y2 = StageB(s, b, e + 2 * threads, tileN, col0, k0, bAlongJ);
                var y3 = StageB(s, b, e + 3 * threads, tileN, col0, k0, bAlongJ);
                var y4 = StageB(s, b, e + 4 * threads, tileN, col0, k0, bAlongJ);
                var y5 = StageB(s, b, e + 5 * threads, tileN, col0, k0, bAlongJ);
                var y6 = StageB(s, b, e + 6 * threads, tileN, col0, k0, bAlongJ);
                var y7 = StageB(s, b, e + 7 * threads, tileN, col0, k0, bAlongJ);
                Put(aTile, x0); Put(aTile, x1); Put(aTile, x2); Put(aTile, x3);
                Put(aTile, x4); Put(aTile, x5); Put(aTile, x6); Put(aTile, x7);
                Put(bTile, y0); Put(bTile, y1); Put(bTile, y2); Put(bTile, y3);
                Put(bTile, y4); Put(bTile, y5); Put(bTile, y6); Put(bTile, y7);
            }
            Group.Barrier();
            acc = MultiplyTiles(acc, aTile, bTile, ty, tx, gr, gc);
            Group.Barrier();
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

    /// <summary>Element e of the op(A) tile (tileM × TileK, loaded along k when A's k stride is 1): its value (0 outside A) and shared slot (−1 past the tile).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Staged StageA(GemmShape s, ArrayView<float> a, int e, int tileM, int row0, int k0, bool aAlongK)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileM * TileK)
        {
            int i, kk;
            if (aAlongK) { kk = e & (TileK - 1); i = e >> TileKShift; }
            else { i = e & (tileM - 1); kk = e >> s.TileRowsShift; }
            int gi = row0 + i, gk = k0 + kk;
            x.Slot = kk * SharedStride + i;
            if (gi < s.M && gk < s.K) x.Value = a[gi * s.StrideAi + gk * s.StrideAk];
        }
        return x;
    }

    /// <summary>Element e of the op(B) tile (TileK × tileN, loaded along j when B's j stride is 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Staged StageB(GemmShape s, ArrayView<float> b, int e, int tileN, int col0, int k0, bool bAlongJ)
    {
        Staged x;
        x.Value = 0f;
        x.Slot = -1;
        if (e < tileN * TileK)
        {
            int j, kk;
            if (bAlongJ) { j = e & (tileN - 1); kk = e >> s.TileColsShift; }
            else { kk = e & (TileK - 1); j = e >> TileKShift; }
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
    /// <see cref="TileK"/> staged k (both tiles stored k-major with row stride <see cref="SharedStride"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Block8x8 MultiplyTiles(Block8x8 acc, ArrayView<float> aTile, ArrayView<float> bTile, int ty, int tx, int gr, int gc)
    {
        for (int kk = 0; kk < TileK; kk++)
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
