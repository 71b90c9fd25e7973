using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>Shape and epilogue of one GEMM launch: C[M,N] = act(alpha·op(A)·op(B) + beta·C + bias[col]).</summary>
public struct GemmShape
{
    public int M, N, K;
    /// <summary>op(A)[i,k] = A[i·StrideAi + k·StrideAk]; op(B)[k,j] = B[k·StrideBk + j·StrideBj].</summary>
    public int StrideAi, StrideAk, StrideBk, StrideBj;
    public float Alpha, Beta;
    /// <summary>1: add bias[j] to column j. 0: no bias.</summary>
    public int HasBias;
    /// <summary>1: apply ReLU to the result.</summary>
    public int Relu;
    /// <summary>ceil(N / 4): thread tile t owns rows 4·(t / ColumnTiles) + 0..3 and columns t % ColumnTiles + q·ColumnTiles.</summary>
    public int ColumnTiles;
    public int Tiles;
    public int GridStride;
    /// <summary>Tiled kernel: threads per group along rows and columns (tile = 8·GroupRows × 8·GroupCols) and tiles per row of C.</summary>
    public int GroupRows, GroupCols, ColumnGroups;
    /// <summary>log2 of the tile's rows and columns (powers of two): the tile loaders shift instead of dividing.</summary>
    public int TileRowsShift, TileColsShift;
}

/// <summary>Which ILGPU GEMM kernel <see cref="IlgpuGemm"/> runs (environment variable KIAGO_ILGPU_GEMM).</summary>
public enum GemmMode
{
    /// <summary>The shared-memory tiled kernel for shapes of at least <see cref="IlgpuGemm.TiledMinimum"/> rows and columns, else the simple one.</summary>
    Auto,
    /// <summary>Always the register-blocked kernel without shared memory (v1; the fallback).</summary>
    Simple,
    /// <summary>Always the tiled kernel (tests).</summary>
    Tiled,
}

/// <summary>
/// GEMM launcher: the shared-memory <see cref="TiledGemm"/> for big enough shapes (default), else the simple
/// register-blocked kernel below. Simple kernel: each thread computes a 4×4 block of C in registers. Its four columns are interleaved
/// (j, j + N/4, …) so that consecutive threads read consecutive elements of B and write consecutive elements of C
/// (coalesced on a GPU), while the four rows of A they share are broadcast. No shared memory (v1).
/// </summary>
sealed class IlgpuGemm(IlgpuBackend backend)
{
    public const int Block = 4;
    /// <summary>Auto mode uses the tiled kernel when M and N are both at least this.</summary>
    public const int TiledMinimum = 16;
    Action<AcceleratorStream, Index1D, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? kernel;
    readonly Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>?[] tiled = new Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>?[8];

    /// <summary>The kernel choice; starts as the backend's <see cref="IlgpuBackend.GemmMode"/> (tests may change it).</summary>
    public GemmMode Mode { get; set; } = backend.GemmMode;

    /// <summary>Tile caps, K depth and prefetch of the tiled GEMM and convolution kernels; starts as the backend's <see cref="IlgpuBackend.Tiling"/> (tests may change it).</summary>
    public TilingOptions Tiling { get; set; } = backend.Tiling;

    /// <summary>Whether a GEMM of this shape runs the tiled kernel in the current <see cref="Mode"/>.</summary>
    public bool UsesTiled(int m, int n) => Mode switch
    {
        GemmMode.Simple => false,
        GemmMode.Tiled => true,
        _ => m >= TiledMinimum && n >= TiledMinimum,
    };

    /// <summary>Launches with shape strides/epilogue already set; fills in the tiling.</summary>
    public void Run(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        if (s.M == 0 || s.N == 0) return;
        if (UsesTiled(s.M, s.N))
        {
            RunTiled(s, a, b, c, bias);
            return;
        }
        s.ColumnTiles = (s.N + Block - 1) / Block;
        long tiles = (long)s.ColumnTiles * ((s.M + Block - 1) / Block);
        s.Tiles = IlgpuBackend.Count("Gemm", tiles);
        s.GridStride = backend.GridSize(s.Tiles);
        kernel ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(GemmKernel);
        kernel(backend.Stream, s.GridStride, s, a, b, c, bias);
    }

    void RunTiled(GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        var tiling = Tiling;
        (s.GroupRows, s.GroupCols) = GroupShape(s.M, s.N, backend.Accelerator.MaxNumThreadsPerGroup, backend.Accelerator.NumMultiprocessors, tiling);
        int tileM = s.GroupRows * TiledGemm.Block, tileN = s.GroupCols * TiledGemm.Block;
        s.TileRowsShift = System.Numerics.BitOperations.Log2((uint)tileM);
        s.TileColsShift = System.Numerics.BitOperations.Log2((uint)tileN);
        s.ColumnGroups = (s.N + tileN - 1) / tileN;
        int groups = IlgpuBackend.Count("Gemm", (long)s.ColumnGroups * ((s.M + tileM - 1) / tileM));
        int variant = tiling.Variant;
        var launch = tiled[variant] ??= backend.LoadGroupedKernel<Action<AcceleratorStream, KernelConfig, GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(
            tiling.Kernel<Action<GemmShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(typeof(TiledGemm), nameof(TiledGemm.TiledKernel)));
        launch(backend.Stream, new KernelConfig(groups, s.GroupRows * s.GroupCols), s, a, b, c, bias);
    }

    /// <summary>Group shape with the default tile caps (128×128).</summary>
    internal static (int Rows, int Cols) GroupShape(int m, int n, int maxThreads, int multiprocessors) =>
        GroupShape(m, n, maxThreads, multiprocessors, TilingOptions.Default);

    /// <summary>
    /// Threads per group (rows × columns, powers of two, at most 16 × 16 and <paramref name="maxThreads"/>): columns
    /// follow N (a 128-, 64- or 32-wide tile); rows follow M and halve while the tiles would not give every
    /// multiprocessor a group. The tile is at most <see cref="TilingOptions.MaxTileRows"/> × <see cref="TilingOptions.MaxTileCols"/>.
    /// </summary>
    internal static (int Rows, int Cols) GroupShape(int m, int n, int maxThreads, int multiprocessors, TilingOptions tiling)
    {
        int cols = n > 64 ? 16 : n > 32 ? 8 : 4, rows = 16;
        cols = Math.Min(cols, Math.Max(1, tiling.MaxTileCols / TiledGemm.Block));
        rows = Math.Min(rows, Math.Max(1, tiling.MaxTileRows / TiledGemm.Block));
        long Groups(int r) => (long)((n + cols * TiledGemm.Block - 1) / (cols * TiledGemm.Block)) * ((m + r * TiledGemm.Block - 1) / (r * TiledGemm.Block));
        while (rows > 1 && rows * TiledGemm.Block / 2 >= m) rows /= 2; // a tile no taller than M needs
        while (rows > 4 && rows * cols > 32 && Groups(rows) < multiprocessors) rows /= 2; // keep ≥ one full warp
        while (rows * cols > maxThreads && rows * cols > 1)
        {
            if (rows >= cols) rows /= 2;
            else cols /= 2;
        }
        return (rows, cols);
    }

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C.</summary>
    public static GemmShape Shape(int m, int n, int k, bool transposeA, bool transposeB, float alpha, float beta) => new()
    {
        M = m, N = n, K = k,
        StrideAi = transposeA ? 1 : k, StrideAk = transposeA ? m : 1,
        StrideBk = transposeB ? 1 : n, StrideBj = transposeB ? k : 1,
        Alpha = alpha, Beta = beta,
    };

    [IlgpuKernel]
    internal static void GemmKernel(Index1D index, GemmShape s, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias)
    {
        for (int t = index; t < s.Tiles; t += s.GridStride)
        {
            int tc = t % s.ColumnTiles;
            int row0 = (t / s.ColumnTiles) * Block;
            int ct = s.ColumnTiles;
            // Out-of-range rows/columns are clamped for loading (no branch in the k loop) and skipped when storing.
            int lastRow = s.M - 1, lastCol = s.N - 1;
            int a0 = Math.Min(row0, lastRow) * s.StrideAi, a1 = Math.Min(row0 + 1, lastRow) * s.StrideAi;
            int a2 = Math.Min(row0 + 2, lastRow) * s.StrideAi, a3 = Math.Min(row0 + 3, lastRow) * s.StrideAi;
            int b0 = Math.Min(tc, lastCol) * s.StrideBj, b1 = Math.Min(tc + ct, lastCol) * s.StrideBj;
            int b2 = Math.Min(tc + 2 * ct, lastCol) * s.StrideBj, b3 = Math.Min(tc + 3 * ct, lastCol) * s.StrideBj;
            float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
            float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
            int ak = 0, bk = 0;
            for (int k = 0; k < s.K; k++)
            {
                float x0 = a[a0 + ak], x1 = a[a1 + ak], x2 = a[a2 + ak], x3 = a[a3 + ak];
                float y0 = b[bk + b0], y1 = b[bk + b1], y2 = b[bk + b2], y3 = b[bk + b3];
                c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
                c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
                c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
                ak += s.StrideAk;
                bk += s.StrideBk;
            }
            Store(s, c, bias, row0, tc, c00, c01, c02, c03);
            Store(s, c, bias, row0 + 1, tc, c10, c11, c12, c13);
            Store(s, c, bias, row0 + 2, tc, c20, c21, c22, c23);
            Store(s, c, bias, row0 + 3, tc, c30, c31, c32, c33);
        }
    }

    static void Store(GemmShape s, ArrayView<float> c, ArrayView<float> bias, int row, int tc, float v0, float v1, float v2, float v3)
    {
        if (row >= s.M) return;
        int rowBase = row * s.N;
        StoreOne(s, c, bias, rowBase, tc, v0);
        StoreOne(s, c, bias, rowBase, tc + s.ColumnTiles, v1);
        StoreOne(s, c, bias, rowBase, tc + 2 * s.ColumnTiles, v2);
        StoreOne(s, c, bias, rowBase, tc + 3 * s.ColumnTiles, v3);
    }

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
