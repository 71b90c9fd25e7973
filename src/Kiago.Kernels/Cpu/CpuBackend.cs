using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// The production CPU engine: hand-written Vector256/FMA kernels (scalar fallback where AVX2/FMA is missing),
/// multi-threaded over batch and row tiles. Work is done synchronously inside each call.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    readonly ParallelOptions parallelOptions;

    public CpuBackend(int? threads = null) : this(threads, allowSimd: true) { }

    /// <summary><paramref name="allowSimd"/> = false forces the scalar kernels (tests of the fallback path).</summary>
    internal CpuBackend(int? threads, bool allowSimd)
    {
        int count = threads ?? Environment.ProcessorCount;
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "thread count must be >= 1");
        Threads = count;
        Simd = allowSimd && GemmKernel.SimdSupported;
        parallelOptions = new ParallelOptions { MaxDegreeOfParallelism = count };
        DeviceName = $"cpu: {(!Simd ? "scalar (no AVX2/FMA)" : GemmKernel.Avx512Supported ? "SIMD AVX-512F+FMA" : "SIMD AVX2+FMA")}, {count} thread{(count == 1 ? "" : "s")}";
    }

    public string DeviceName { get; }
    public DeviceKind Kind => DeviceKind.Cpu;
    public int Threads { get; }
    internal bool Simd { get; }
    internal ScratchPool Scratch { get; } = new();

    /// <summary>Scratch arrays created so far (grows during warm-up, then stays flat).</summary>
    public int ScratchAllocations => Scratch.Allocations;

    public void Dispose() { }

    // ---- helpers -----------------------------------------------------------------------------------------
    internal CpuBuffer<T> Own<T>(DeviceBuffer<T> buffer, string op, string name) where T : unmanaged =>
        buffer as CpuBuffer<T> is { } cpu && ReferenceEquals(cpu.Backend, this)
            ? cpu
            : throw new ArgumentException($"{op}: buffer '{name}' does not belong to this cpu backend", name);

    internal void ParallelFor(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || Threads == 1) { for (int i = 0; i < count; i++) body(i); return; }
        Parallel.For(0, count, parallelOptions, body);
    }

    /// <summary>Runs body(start, end) over [0, count) in chunks worth parallelising (memory-bound loops).</summary>
    internal void ParallelRange(long count, Action<int, int> body, int grain = 1 << 15)
    {
        if (count <= 0) return;
        int chunks = (int)Math.Min(Threads * 4L, (count + grain - 1) / grain);
        if (chunks <= 1) { body(0, (int)count); return; }
        long size = (count + chunks - 1) / chunks;
        // ceil(count / size) chunks, not `chunks`: with a thread count that does not divide the work (--threads 3 on
        // 64 samples: 12 chunks of 6) the last ones would start past the end and get a negative length
        int used = (int)((count + size - 1) / size);
        ParallelFor(used, c => body((int)(c * size), (int)Math.Min(count, (c + 1) * size)));
    }

    static void RequireCount(string op, long count)
    {
        if (count < 0) throw new ShapeException($"{op}: count {count} is negative");
    }

    // ---- memory ------------------------------------------------------------------------------------------
    public DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged => new CpuBuffer<T>(this, length);

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination, long destinationOffset = 0) where T : unmanaged
    {
        var d = Own(destination, "Upload", "destination");
        if (destinationOffset < 0 || destinationOffset + source.Length > d.Length)
            throw new ShapeException($"Upload: {source.Length} elements at offset {destinationOffset} do not fit a buffer of {d.Length}");
        source.CopyTo(d.Array.AsSpan((int)destinationOffset));
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination, long sourceOffset = 0) where T : unmanaged
    {
        var s = Own(source, "Download", "source");
        if (sourceOffset < 0 || sourceOffset + destination.Length > s.Length)
            throw new ShapeException($"Download: {destination.Length} elements at offset {sourceOffset} exceed a buffer of {s.Length}");
        s.Array.AsSpan((int)sourceOffset, destination.Length).CopyTo(destination);
    }

    public void Copy(DeviceBuffer<float> source, DeviceBuffer<float> destination, long count)
    {
        RequireCount("Copy", count);
        ShapeException.RequireLength("Copy", "source", source, count);
        ShapeException.RequireLength("Copy", "destination", destination, count);
        Own(source, "Copy", "source").Array.AsSpan(0, (int)count).CopyTo(Own(destination, "Copy", "destination").Array);
    }

    public void Fill(DeviceBuffer<float> buffer, float value, long count)
    {
        RequireCount("Fill", count);
        ShapeException.RequireLength("Fill", "buffer", buffer, count);
        Own(buffer, "Fill", "buffer").Array.AsSpan(0, (int)count).Fill(value);
    }

    public void Synchronize() { }

    // ---- frozen layers ------------------------------------------------------------------------------------
    // --threads bounds the composition kernel like the rest of the backend
    public Composition.ICompositionKernel CreateCompositionKernel(Composition.CompositionSpec spec) =>
        new Composition.CompositionKernelCpu(spec, Threads);

    public IConv2d PrepareConv2d(Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new CpuConv2d(this, spec, weight, bias);

    public ILinear PrepareLinear(LinearSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias) =>
        new CpuLinear(this, spec, weight, bias);

    // ---- GEMM ----------------------------------------------------------------------------------------------
    public unsafe void Gemm(int m, int n, int k, DeviceBuffer<float> a, bool transposeA, DeviceBuffer<float> b, bool transposeB,
        DeviceBuffer<float> c, float alpha = 1f, float beta = 0f)
    {
        const string op = "Gemm";
        if (m < 0 || n < 0 || k < 0) throw new ShapeException($"{op}: negative size M={m} N={n} K={k}");
        ShapeException.RequireShape(op, "a", a, transposeA ? [k, m] : [m, k]);
        ShapeException.RequireShape(op, "b", b, transposeB ? [n, k] : [k, n]);
        ShapeException.RequireShape(op, "c", c, m, n);
        var aa = Own(a, op, "a").Array;
        var ca = Own(c, op, "c").Array;
        if (m == 0 || n == 0) return;

        var packedStorage = Scratch.Rent((long)k * ((n + 15) / 16 * 16));
        float[]? transposedA = null;
        try
        {
            var packed = new PackedMatrix(k, n, packedStorage);
            packed.Pack(Own(b, op, "b").Array, transposeB ? 1 : n, transposeB ? k : 1, alpha);
            float[] rowMajorA = aa;
            if (transposeA)
            {
                transposedA = Scratch.Rent((long)m * k);
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        transposedA[(long)i * k + p] = aa[(long)p * m + i];
                rowMajorA = transposedA;
            }
            bool accumulate = beta != 0f;
            if (accumulate && beta != 1f) Scale(c, beta, (long)m * n);
            RunGemm(m, rowMajorA, k, packed, ca, n, accumulate, bias: null, relu: false);
        }
        finally
        {
            Scratch.Return(packedStorage);
            if (transposedA is not null) Scratch.Return(transposedA);
        }
    }

    /// <summary>C[m, N] (+)= A[m, K]·B, then relu?(C + bias), tiled over rows and column panels in parallel.</summary>
    internal unsafe void RunGemm(int m, float[] a, int lda, PackedMatrix b, float[] c, int ldc, bool accumulate, float[]? bias, bool relu)
    {
        var tiling = GemmTiling.Plan(m, b.Panels, (long)m * b.N * b.K < 200_000 ? 1 : Threads);
        bool simd = Simd;
        ParallelFor(tiling.Count, t =>
        {
            int rb = t / tiling.PanelChunks, pc = t % tiling.PanelChunks;
            int row0 = rb * tiling.RowBlock, rows = Math.Min(tiling.RowBlock, m - row0);
            int p0 = pc * tiling.PanelChunk, p1 = Math.Min(b.Panels, p0 + tiling.PanelChunk);
            fixed (float* ap = a) fixed (float* cp = c) fixed (float* bias0 = bias)
            {
                float* ct = cp + (long)row0 * ldc;
                GemmKernel.Multiply(simd, rows, ap + (long)row0 * lda, lda, b, p0, p1, ct, ldc, accumulate);
                GemmKernel.Epilogue(rows, p0 * GemmKernel.NR, Math.Min(b.N, p1 * GemmKernel.NR), ct, ldc, bias0, relu);
            }
        });
    }

    // ---- elementwise --------------------------------------------------------------------------------------
    public void Relu(DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Relu", x, "x", y, "y", count, out var xa, out var ya);
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Vector256.IsHardwareAccelerated && Simd)
                for (; i + 8 <= e; i += 8)
                    Vector256.Max(Vector256.Create(xa, i), Vector256<float>.Zero).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = xa[i] > 0f ? xa[i] : 0f;
        });
    }

    public void ReluBackward(DeviceBuffer<float> y, DeviceBuffer<float> dy, DeviceBuffer<float> dx, long count)
    {
        const string op = "ReluBackward";
        Elementwise2(op, y, "y", dy, "dy", count, out var ya, out var dya);
        ShapeException.RequireLength(op, "dx", dx, count);
        var dxa = Own(dx, op, "dx").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
                for (; i + 8 <= e; i += 8)
                {
                    var mask = Vector256.GreaterThan(Vector256.Create(ya, i), Vector256<float>.Zero);
                    (Vector256.Create(dya, i) & mask).CopyTo(dxa, i);
                }
            for (; i < e; i++) dxa[i] = ya[i] > 0f ? dya[i] : 0f;
        });
    }

    public void Add(DeviceBuffer<float> a, DeviceBuffer<float> b, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Add", a, "a", b, "b", count, out var aa, out var ba);
        ShapeException.RequireLength("Add", "y", y, count);
        var ya = Own(y, "Add", "y").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
                for (; i + 8 <= e; i += 8)
                    (Vector256.Create(aa, i) + Vector256.Create(ba, i)).CopyTo(ya, i);
            for (; i < e; i++) ya[i] = aa[i] + ba[i];
        });
    }

    public void Axpy(float alpha, DeviceBuffer<float> x, DeviceBuffer<float> y, long count)
    {
        Elementwise2("Axpy", x, "x", y, "y", count, out var xa, out var ya);
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
            {
                var va = Vector256.Create(alpha);
                for (; i + 8 <= e; i += 8)
                    Fma.MultiplyAdd(va, Vector256.Create(xa, i), Vector256.Create(ya, i)).CopyTo(ya, i);
            }
            for (; i < e; i++) ya[i] += alpha * xa[i];
        });
    }

    public void Scale(DeviceBuffer<float> x, float alpha, long count)
    {
        RequireCount("Scale", count);
        ShapeException.RequireLength("Scale", "x", x, count);
        var xa = Own(x, "Scale", "x").Array;
        ParallelRange(count, (s, e) =>
        {
            int i = s;
            if (Simd)
            {
                var va = Vector256.Create(alpha);
                for (; i + 8 <= e; i += 8) (Vector256.Create(xa, i) * va).CopyTo(xa, i);
            }
            for (; i < e; i++) xa[i] *= alpha;
        });
    }

    void Elementwise2(string op, DeviceBuffer<float> a, string aName, DeviceBuffer<float> b, string bName, long count,
        out float[] aa, out float[] ba)
    {
        RequireCount(op, count);
        ShapeException.RequireLength(op, aName, a, count);
        ShapeException.RequireLength(op, bName, b, count);
        aa = Own(a, op, aName).Array;
        ba = Own(b, op, bName).Array;
    }

    // ---- reductions, gather/scatter, Adam ----------------------------------------------------------------
    public void GlobalAvgPool(int batch, int channels, int spatial, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "GlobalAvgPool";
        ShapeException.RequireShape(op, "x", x, batch, channels, spatial);
        ShapeException.RequireShape(op, "y", y, batch, channels);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        float inv = 1f / spatial;
        ParallelRange((long)batch * channels, (s, e) =>
        {
            for (int r = s; r < e; r++)
            {
                float sum = 0f;
                int o = r * spatial;
                for (int j = 0; j < spatial; j++) sum += xa[o + j];
                ya[r] = sum * inv;
            }
        }, grain: 4096);
    }

    public void GlobalAvgPoolBackward(int batch, int channels, int spatial, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "GlobalAvgPoolBackward";
        ShapeException.RequireShape(op, "dy", dy, batch, channels);
        ShapeException.RequireShape(op, "dx", dx, batch, channels, spatial);
        var dya = Own(dy, op, "dy").Array;
        var dxa = Own(dx, op, "dx").Array;
        float inv = 1f / spatial;
        ParallelRange((long)batch * channels, (s, e) =>
        {
            for (int r = s; r < e; r++) dxa.AsSpan(r * spatial, spatial).Fill(dya[r] * inv);
        }, grain: 4096);
    }

    public void GatherColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "GatherColumns";
        ShapeException.RequireShape(op, "x", x, batch, xColumns);
        ShapeException.RequireShape(op, "index", index, yColumns);
        ShapeException.RequireShape(op, "y", y, batch, yColumns);
        var xa = Own(x, op, "x").Array;
        var ia = Own(index, op, "index").Array;
        var ya = Own(y, op, "y").Array;
        CheckIndex(op, ia, yColumns, xColumns);
        for (int b = 0; b < batch; b++)
        {
            int xo = b * xColumns, yo = b * yColumns;
            for (int j = 0; j < yColumns; j++) ya[yo + j] = xa[xo + ia[j]];
        }
    }

    public void ScatterColumns(int batch, DeviceBuffer<float> x, int xColumns, DeviceBuffer<int> index, DeviceBuffer<float> y, int yColumns)
    {
        const string op = "ScatterColumns";
        ShapeException.RequireShape(op, "x", x, batch, xColumns);
        ShapeException.RequireShape(op, "index", index, xColumns);
        ShapeException.RequireShape(op, "y", y, batch, yColumns);
        var xa = Own(x, op, "x").Array;
        var ia = Own(index, op, "index").Array;
        var ya = Own(y, op, "y").Array;
        CheckIndex(op, ia, xColumns, yColumns);
        ya.AsSpan(0, batch * yColumns).Clear();
        for (int b = 0; b < batch; b++)
        {
            int xo = b * xColumns, yo = b * yColumns;
            for (int j = 0; j < xColumns; j++) ya[yo + ia[j]] += xa[xo + j];
        }
    }

    static void CheckIndex(string op, int[] index, int count, int bound)
    {
        for (int j = 0; j < count; j++)
            if ((uint)index[j] >= (uint)bound)
                throw new ShapeException($"{op}: index[{j}] = {index[j]} is outside [0, {bound})");
    }

    public void RowSum(int batch, int columns, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "RowSum";
        ShapeException.RequireShape(op, "x", x, batch, columns);
        ShapeException.RequireShape(op, "y", y, batch);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        for (int b = 0; b < batch; b++)
        {
            float sum = 0f;
            int o = b * columns;
            for (int j = 0; j < columns; j++) sum += xa[o + j];
            ya[b] = sum;
        }
    }

    public void AdamUpdate(AdamSpec spec, int step, DeviceBuffer<float> parameter, DeviceBuffer<float> gradient,
        DeviceBuffer<float> firstMoment, DeviceBuffer<float> secondMoment, long count)
    {
        const string op = "AdamUpdate";
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, $"{op}: step is 1-based");
        RequireCount(op, count);
        ShapeException.RequireLength(op, "parameter", parameter, count);
        ShapeException.RequireLength(op, "gradient", gradient, count);
        ShapeException.RequireLength(op, "firstMoment", firstMoment, count);
        ShapeException.RequireLength(op, "secondMoment", secondMoment, count);
        var p = Own(parameter, op, "parameter").Array;
        var g = Own(gradient, op, "gradient").Array;
        var m = Own(firstMoment, op, "firstMoment").Array;
        var v = Own(secondMoment, op, "secondMoment").Array;
        // PyTorch: step_size = lr / (1 − β1ᵗ); denom = sqrt(v) / sqrt(1 − β2ᵗ) + ε.
        float b1 = spec.Beta1, b2 = spec.Beta2;
        float stepSize = (float)(spec.LearningRate / (1.0 - Math.Pow(b1, step)));
        float invSqrtBc2 = (float)(1.0 / Math.Sqrt(1.0 - Math.Pow(b2, step)));
        float eps = spec.Epsilon;
        ParallelRange(count, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                float gi = g[i];
                float mi = b1 * m[i] + (1f - b1) * gi;
                float vi = b2 * v[i] + (1f - b2) * gi * gi;
                m[i] = mi;
                v[i] = vi;
                p[i] -= stepSize * mi / (MathF.Sqrt(vi) * invSqrtBc2 + eps);
            }
        });
    }
}
