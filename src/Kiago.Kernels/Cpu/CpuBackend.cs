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

    /// <summary>Whether the kernels' loops flush subnormal operands and results to zero (x86-64 Linux; see <see cref="SubnormalFlush"/>).</summary>
    public static bool FlushesSubnormals
    {
        get
        {
            SubnormalFlush.Exit(SubnormalFlush.Enter());
            return SubnormalFlush.Supported;
        }
    }

    internal void ParallelFor(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || Threads == 1)
        {
            bool flushing = SubnormalFlush.Enter();
            try
            {
                for (int i = 0; i < count; i++) body(i);
            }
            finally { SubnormalFlush.Exit(flushing); }
            return;
        }
        // each worker task sets the flush bits once and puts them back when it ends
        Parallel.For(0, count, parallelOptions, SubnormalFlush.Enter, (i, _, flushing) =>
        {
            body(i);
            return flushing;
        }, SubnormalFlush.Exit);
    }

    /// <summary>Runs body(start, end) over [0, count) in chunks worth parallelising (memory-bound loops).</summary>
    internal void ParallelRange(long count, Action<int, int> body, int grain = 1 << 15)
    {
        if (count <= 0) return;
        int chunks = (int)Math.Min(Threads * 4L, (count + grain - 1) / grain);
        if (chunks <= 1)
        {
            ParallelFor(1, _ => body(0, (int)count));
            return;
        }
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
}
