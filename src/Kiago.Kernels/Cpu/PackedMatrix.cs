namespace Kiago.Kernels.Cpu;

/// <summary>
/// A K×N right-hand GEMM operand packed for the 6×16 micro-kernel: K is cut into blocks of at most
/// <see cref="GemmKernel.KBlock"/> rows, N into 16-column panels (the last zero-padded). Block b starts at
/// k0·NPadded; inside it panel j is a contiguous kc×16 slab. Frozen weights are packed once.
/// </summary>
internal sealed class PackedMatrix
{
    public PackedMatrix(int k, int n, float[]? storage = null)
    {
        K = k;
        N = n;
        Panels = (n + GemmKernel.NR - 1) / GemmKernel.NR;
        NPadded = Panels * GemmKernel.NR;
        KBlocks = Math.Max(1, (k + GemmKernel.KBlock - 1) / GemmKernel.KBlock);
        // Even blocks: 576 → 2×288 rather than 256+256+64.
        KcBase = k == 0 ? 0 : (k + KBlocks - 1) / KBlocks;
        long needed = (long)k * NPadded;
        if (storage is not null && storage.Length < needed) throw new ArgumentException("packed storage too small");
        Data = storage ?? GC.AllocateArray<float>((int)needed, pinned: true);
    }

    public int K { get; }
    public int N { get; }
    public int Panels { get; }
    public int NPadded { get; }
    public int KBlocks { get; }
    public int KcBase { get; }
    public float[] Data { get; }

    public int BlockStart(int block) => Math.Min(K, block * KcBase);
    public int BlockLength(int block) => Math.Min(K, (block + 1) * KcBase) - BlockStart(block);

    /// <summary>Packs element (k, n) = alpha · source[k·rowStride + n·colStride].</summary>
    public void Pack(ReadOnlySpan<float> source, int rowStride, int colStride, float alpha = 1f)
    {
        var data = Data.AsSpan();
        for (int block = 0; block < KBlocks; block++)
        {
            int k0 = BlockStart(block), kc = BlockLength(block);
            for (int panel = 0; panel < Panels; panel++)
            {
                var slab = data.Slice(k0 * NPadded + panel * kc * GemmKernel.NR, kc * GemmKernel.NR);
                int n0 = panel * GemmKernel.NR, width = Math.Min(GemmKernel.NR, N - n0);
                for (int p = 0; p < kc; p++)
                {
                    var row = slab.Slice(p * GemmKernel.NR, GemmKernel.NR);
                    int src = (k0 + p) * rowStride + n0 * colStride;
                    for (int c = 0; c < width; c++) row[c] = alpha * source[src + c * colStride];
                    row[width..].Clear();
                }
            }
        }
    }
}
