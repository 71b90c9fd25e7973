using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Kiago.Kernels.Ilgpu.Ops;

namespace Kiago.Kernels.Ilgpu;

/// <summary>
/// ILGPU kernels on a CUDA GPU (<see cref="TryCreateCuda"/>) or on ILGPU's CPU accelerator (<see cref="CreateCpu"/>,
/// same kernels, for tests; slow). Every op is launched on <see cref="Stream"/> without waiting; kernels are
/// compiled on first use and cached. Other code may load its own kernels with <see cref="LoadKernel{TDelegate}"/>
/// and launch them on <see cref="Stream"/> with <see cref="IlgpuBuffer{T}.View"/>.
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    readonly Dictionary<MethodInfo, Delegate> kernels = [];
    readonly int maxGridThreads;
    bool disposed;

    IlgpuBackend(Context context, Accelerator accelerator, DeviceKind kind, string deviceName)
    {
        Context = context;
        Accelerator = accelerator;
        Kind = kind;
        DeviceName = deviceName;
        Stream = accelerator.CreateStream();
        // Grid-stride kernels: a GPU wants every SM full; the CPU accelerator pays ~1 µs per thread index, so
        // it gets one thread per simulated core.
        maxGridThreads = kind == DeviceKind.Cuda
            ? accelerator.NumMultiprocessors * accelerator.MaxNumThreadsPerMultiprocessor
            : accelerator.MaxNumThreads;
        Elementwise = new IlgpuElementwise(this);
        GemmMode = ConfiguredGemmMode.Value;
        Tiling = ConfiguredTiling.Value;
        GemmKernels = new IlgpuGemm(this);
        Pools = new IlgpuPool2d(this);
        Columns = new IlgpuColumns(this);
        Batched = new IlgpuBatchedGemm(this);
        Tokens = new IlgpuTokens(this);
        LayerNorms = new IlgpuLayerNorm(this);
        RowOps = new IlgpuRowOps(this);
        AdamKernels = new IlgpuAdam(this);
    }

    /// <summary>Name of the environment variable that picks the GEMM kernel: <c>simple</c>, <c>tiled</c> or <c>auto</c> (default).</summary>
    public const string GemmEnvironmentVariable = "KIAGO_ILGPU_GEMM";

    /// <summary><see cref="GemmEnvironmentVariable"/>, read once per process.</summary>
    static readonly Lazy<GemmMode> ConfiguredGemmMode = new(() => ParseGemmMode(Environment.GetEnvironmentVariable(GemmEnvironmentVariable)));

    /// <summary>KIAGO_ILGPU_TILE, KIAGO_ILGPU_TILE_K, KIAGO_ILGPU_PREFETCH and KIAGO_ILGPU_VEC4, read once per process.</summary>
    static readonly Lazy<TilingOptions> ConfiguredTiling = new(TilingOptions.FromEnvironment);

    /// <summary>The tiled kernels' options this backend started with (<see cref="TilingOptions.FromEnvironment"/>).</summary>
    public TilingOptions Tiling { get; }

    /// <summary>The GEMM kernel choice this backend started with (from <see cref="GemmEnvironmentVariable"/>).</summary>
    public GemmMode GemmMode { get; }

    internal static GemmMode ParseGemmMode(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => GemmMode.Auto,
        "simple" => GemmMode.Simple,
        "tiled" => GemmMode.Tiled,
        _ => throw new EnvironmentVariableException($"environment variable {GemmEnvironmentVariable}='{value}' is not one of: auto, simple, tiled"),
    };

    internal IlgpuElementwise Elementwise { get; }
    internal IlgpuGemm GemmKernels { get; }
    internal IlgpuPool2d Pools { get; }
    internal IlgpuColumns Columns { get; }
    internal IlgpuBatchedGemm Batched { get; }
    internal IlgpuTokens Tokens { get; }
    internal IlgpuLayerNorm LayerNorms { get; }
    internal IlgpuRowOps RowOps { get; }
    internal IlgpuAdam AdamKernels { get; }

    /// <summary>The ILGPU context (one per backend).</summary>
    internal Context Context { get; }

    internal Accelerator Accelerator { get; }

    /// <summary>The stream every op of this backend is launched on, in order.</summary>
    internal AcceleratorStream Stream { get; }

    public string DeviceName { get; }

    public DeviceKind Kind { get; }

    /// <summary>ILGPU's CPU accelerator with 2 multiprocessors × 2 threads (engine-notes §1: the default 16-thread device is slower).</summary>
    public static IlgpuBackend CreateCpu() => CreateCpu(new CPUDevice(2, 1, 2));

    /// <summary>
    /// ILGPU's CPU accelerator on a chosen simulated device, e.g. <c>CPUDevice(16, 16, 1)</c> for 256-thread groups
    /// like the GPU's tiled GEMM (each simulated thread is an OS thread: use only for small tests).
    /// </summary>
    internal static IlgpuBackend CreateCpu(CPUDevice device)
    {
        var context = Context.Create(b => b.CPU(device).EnableAlgorithms());
        try
        {
            var accelerator = context.CreateCPUAccelerator(0);
            return new IlgpuBackend(context, accelerator, DeviceKind.IlgpuCpu,
                $"ilgpu-cpu: ILGPU CPU accelerator, {accelerator.NumMultiprocessors} x {accelerator.MaxNumThreadsPerGroup} threads");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>The first CUDA device, or null and the <paramref name="reason"/> there is none (e.g. driver not loaded).</summary>
    public static IlgpuBackend? TryCreateCuda(out string reason)
    {
        Context? context = null;
        try
        {
            context = Context.Create(b => b.Cuda().Optimize(OptimizationLevel.O2).EnableAlgorithms());
            if (context.GetCudaDevices().Count == 0)
            {
                reason = CudaProbe.WhyNoDevice();
                context.Dispose();
                return null;
            }
            var accelerator = context.CreateCudaAccelerator(0);
            var arch = accelerator.Architecture is { } a ? $"sm_{a.Major}{a.Minor}" : "unknown arch";
            reason = "";
            return new IlgpuBackend(context, accelerator, DeviceKind.Cuda,
                $"cuda: {accelerator.Name} ({arch}, {accelerator.MemorySize / (1L << 20)} MiB)");
        }
        catch (Exception e) when (e is CudaException or AcceleratorException or DllNotFoundException or TypeInitializationException)
        {
            reason = $"creating the CUDA accelerator failed: {e.GetBaseException().Message}";
            context?.Dispose();
            return null;
        }
    }

    /// <summary>Like <see cref="TryCreateCuda"/> but throws <see cref="NoCudaDeviceException"/> (for <c>--device cuda</c>).</summary>
    public static IlgpuBackend CreateCuda() => TryCreateCuda(out var reason) ?? throw new NoCudaDeviceException(reason);

    // ---- kernels ------------------------------------------------------------------------------------------

    /// <summary>
    /// Compiles (once per backend) an implicitly grouped kernel marked <see cref="IlgpuKernelAttribute"/> and returns
    /// its launcher, whose first two arguments are the stream and the number of thread indices.
    /// </summary>
    internal TDelegate LoadKernel<TDelegate>(Delegate kernel) where TDelegate : Delegate
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var method = kernel.Method;
        if (!method.IsDefined(typeof(IlgpuKernelAttribute), false) || IlgpuKernelAttribute.IsExplicitlyGrouped(method))
            throw new InvalidOperationException(
                $"{IlgpuKernelRegistry.Name(method)} is not marked [IlgpuKernel] as an implicitly grouped kernel: mark it so the PTX compile test covers it");
        if (!kernels.TryGetValue(method, out var launcher))
        {
            launcher = Accelerator.LoadAutoGroupedKernel<TDelegate>(method);
            kernels.Add(method, launcher);
        }
        return (TDelegate)launcher;
    }

    /// <summary>
    /// Compiles (once per backend) an explicitly grouped kernel marked <c>[IlgpuKernel(ExplicitlyGrouped = true)]</c>
    /// and returns its launcher, whose first two arguments are the stream and the <see cref="KernelConfig"/>.
    /// </summary>
    internal TDelegate LoadGroupedKernel<TDelegate>(Delegate kernel) where TDelegate : Delegate
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var method = kernel.Method;
        if (!IlgpuKernelAttribute.IsExplicitlyGrouped(method))
            throw new InvalidOperationException(
                $"{IlgpuKernelRegistry.Name(method)} is not marked [IlgpuKernel(ExplicitlyGrouped = true)]: mark it so the PTX compile test covers it");
        if (!kernels.TryGetValue(method, out var launcher))
        {
            launcher = Accelerator.LoadKernel<TDelegate>(method);
            kernels.Add(method, launcher);
        }
        return (TDelegate)launcher;
    }

    /// <summary>Thread indices to launch for a grid-stride loop over <paramref name="work"/> items (≥ 1).</summary>
    internal int GridSize(long work) => (int)Math.Clamp(work, 1, maxGridThreads);

    // ---- memory -------------------------------------------------------------------------------------------

    /// <summary>The accelerator's total memory.</summary>
    public long DeviceMemoryBytes => Accelerator.MemorySize;

    /// <summary>Free device memory: the driver's figure on CUDA; the GC's available memory on the CPU accelerator.</summary>
    public long FreeMemoryBytes => Accelerator is CudaAccelerator cuda
        ? cuda.GetFreeMemory()
        : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>
    /// Throws <see cref="DeviceOutOfMemoryException"/> naming the largest batch that fits when
    /// fixedBytes + batch·bytesPerCandidate exceeds the free memory (less <see cref="DeviceMemory.Headroom"/>).
    /// </summary>
    public void EnsureBatchFits(int batch, long fixedBytes, long bytesPerCandidate)
    {
        long free = FreeMemoryBytes;
        if (DeviceMemory.LargestBatch(fixedBytes, bytesPerCandidate, free) < batch)
            throw DeviceOutOfMemoryException.ForBatch(DeviceName, batch, fixedBytes, bytesPerCandidate, free, Accelerator.MemorySize);
    }

    /// <summary>
    /// The number of candidates the caller is allocating buffers for (0: unknown). When set, an allocation that runs
    /// out of memory estimates the largest batch that fits from the buffers allocated so far.
    /// </summary>
    public int PlannedBatch { get; set; }

    /// <summary>Bytes held by this backend's live buffers: frozen weights and other (per-batch) buffers.</summary>
    public long WeightBytes => weightBytes;
    public long BufferBytes => bufferBytes;
    /// <summary>The most bytes this backend's buffers (weights + others) held at once since it was created.</summary>
    public long PeakBytes => peakBytes;
    long weightBytes, bufferBytes, peakBytes;

    public DeviceBuffer<T> Allocate<T>(long length) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var memory = AllocateMemory<T>(Math.Max(1, length), frozen: false);
        memory.View.MemSetToZero(Stream);
        return new IlgpuBuffer<T>(this, memory, length);
    }

    /// <summary>A raw allocation (not zeroed); out of memory becomes <see cref="DeviceOutOfMemoryException"/>.</summary>
    MemoryBuffer1D<T, Stride1D.Dense> AllocateMemory<T>(long length, bool frozen) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        long bytes = length * (long)System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        MemoryBuffer1D<T, Stride1D.Dense> memory;
        try
        {
            memory = Accelerator.Allocate1D<T>(length);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            long free = FreeMemoryBytes;
            throw PlannedBatch > 0 && !frozen
                ? DeviceOutOfMemoryException.ForPlannedBatch(DeviceName, PlannedBatch, bytes, weightBytes, bufferBytes, free, Accelerator.MemorySize, e)
                : DeviceOutOfMemoryException.ForAllocation(DeviceName, bytes, free, Accelerator.MemorySize, e);
        }
        if (frozen) weightBytes += bytes;
        else bufferBytes += bytes;
        peakBytes = Math.Max(peakBytes, weightBytes + bufferBytes);
        return memory;
    }

    /// <summary>Called once when a buffer from <see cref="Allocate{T}"/> is disposed.</summary>
    internal void Released(long bytes) => bufferBytes -= bytes;

    /// <summary>Allocates and fills a buffer for frozen data (weights); waits for the copy.</summary>
    internal MemoryBuffer1D<T, Stride1D.Dense> UploadFrozen<T>(T[] values) where T : unmanaged
    {
        var memory = AllocateMemory<T>(Math.Max(1, values.Length), frozen: true);
        if (values.Length > 0) memory.View.SubView(0, values.Length).CopyFromCPU(Stream, values.AsSpan());
        Stream.Synchronize();
        return memory;
    }

    /// <summary>Disposes a buffer from <see cref="UploadFrozen"/>.</summary>
    internal void FreeFrozen<T>(MemoryBuffer1D<T, Stride1D.Dense> memory) where T : unmanaged
    {
        if (memory.IsDisposed) return;
        weightBytes -= memory.LengthInBytes;
        memory.Dispose();
    }

    static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || (e is CudaException cuda && (Mentions(cuda.Error, nameof(CudaError.CUDA_ERROR_OUT_OF_MEMORY)) || Mentions(cuda.Error, "out of memory")))
        || (e is AcceleratorException && Mentions(e.Message, "out of memory"))
        || (e.InnerException is { } inner && IsOutOfMemory(inner));

    static bool Mentions(string? text, string what) => text?.Contains(what, StringComparison.OrdinalIgnoreCase) == true;

    public void Upload<T>(ReadOnlySpan<T> source, DeviceBuffer<T> destination, long destinationOffset = 0) where T : unmanaged
    {
        var dst = Own(destination, "Upload", "destination");
        RequireRange("Upload", "destination", dst, destinationOffset, source.Length);
        if (source.IsEmpty) return;
        dst.View.SubView(destinationOffset, source.Length).CopyFromCPU(Stream, source);
        Stream.Synchronize(); // the host span may be gone once we return
    }

    public void Download<T>(DeviceBuffer<T> source, Span<T> destination, long sourceOffset = 0) where T : unmanaged
    {
        var src = Own(source, "Download", "source");
        RequireRange("Download", "source", src, sourceOffset, destination.Length);
        if (destination.IsEmpty) return;
        src.View.SubView(sourceOffset, destination.Length).CopyToCPU(Stream, destination);
        Stream.Synchronize();
    }

    public void Copy(DeviceBuffer<float> source, DeviceBuffer<float> destination, long count)
    {
        var src = Own(source, "Copy", "source");
        var dst = Own(destination, "Copy", "destination");
        ShapeException.RequireLength("Copy", "source", src, count);
        ShapeException.RequireLength("Copy", "destination", dst, count);
        if (count > 0) src.View.SubView(0, count).CopyTo(Stream, dst.View.SubView(0, count));
    }

    public void Fill(DeviceBuffer<float> buffer, float value, long count) =>
        Elementwise.Fill(View(buffer, "Fill", "buffer", count), value, Count("Fill", count));

    public void Synchronize() => Stream.Synchronize();

    // ---- helpers shared by the ops --------------------------------------------------------------------------

    internal IlgpuBuffer<T> Own<T>(DeviceBuffer<T> buffer, string op, string name) where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        ArgumentNullException.ThrowIfNull(buffer, name);
        if (buffer is not IlgpuBuffer<T> own || !ReferenceEquals(own.Backend, this))
            throw new ArgumentException($"{op}: buffer '{name}' belongs to another backend ({buffer.Backend.DeviceName}), not {DeviceName}", name);
        return own;
    }

    /// <summary>The buffer's view after checking it is ours and holds at least <paramref name="needed"/> elements.</summary>
    internal ArrayView<T> View<T>(DeviceBuffer<T> buffer, string op, string name, long needed) where T : unmanaged
    {
        var own = Own(buffer, op, name);
        ShapeException.RequireLength(op, name, own, needed);
        return own.Memory.View;
    }

    /// <summary>Kernels index with int: element counts beyond 2^31 − 1 are refused.</summary>
    internal static int Count(string op, long count)
    {
        if (count < 0 || count > int.MaxValue)
            throw new ShapeException($"{op}: element count {count} is outside [0, {int.MaxValue}]");
        return (int)count;
    }

    static void RequireRange<T>(string op, string name, IlgpuBuffer<T> buffer, long offset, long count) where T : unmanaged
    {
        if (offset < 0 || offset + count > buffer.Length)
            throw new ShapeException($"{op}: range [{offset}, {offset + count}) lies outside buffer '{name}' of {buffer.Length} elements");
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Stream.Dispose();
        Accelerator.Dispose();
        Context.Dispose();
    }
}
