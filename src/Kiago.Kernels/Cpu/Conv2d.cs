using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// A frozen convolution as GEMM over rows = (sample, output pixel): im2col of a block of samples into scratch,
/// times the prepacked weight, then bias/ReLU while storing NCHW. Output rows are grouped into row classes:
/// runs of output rows whose live kernel rows (those reading real input, not padding) are the same. Each class
/// has its own pruned, prepacked weight, so K shrinks with the map (a 3×3 conv on a 1×1 map is a 1×1 conv, and
/// on a 2×8 map each output row multiplies only the 2 kernel rows it can see: 2/3 of the dense work). Where it cuts
/// a tenth or more, row runs are further split into column runs (a 3×3 on a 1×2 map: 2 of 3 kernel columns). The input
/// backward is the transposed product (dy rows × W) per class, summed by col2im, equally pruned.
/// </summary>
internal sealed unsafe class CpuConv2d : IConv2d, IReluMaskedBackward
{
    const int TargetRows = 132;

    /// <summary>Output pixels [Oy0, Oy1) × [Ox0, Ox1) that share one set of live kernel taps.</summary>
    sealed class TapClass
    {
        public required int Oy0 { get; init; }
        public required int Oy1 { get; init; }
        public required int Ox0 { get; init; }
        public required int Ox1 { get; init; }
        public int Width => Ox1 - Ox0;
        public int Pixels => (Oy1 - Oy0) * Width;
        public required int[] TapH { get; init; }
        public required int[] TapW { get; init; }
        public required PackedMatrix[] Forward { get; init; }
        public required PackedMatrix[] Backward { get; init; }
        /// <summary>Distinct live kernel rows; each is followed by <see cref="RunTaps"/> consecutive kernel columns from
        /// <see cref="RunKw0"/> (when <see cref="Runs"/>), which read consecutive input pixels: one contiguous channels-last run.</summary>
        public required int[] RowsH { get; init; }
        public required int RunKw0 { get; init; }
        public required int RunTaps { get; init; }
        public required bool Runs { get; init; }
        public int Columns => Forward[0].K;
    }

    readonly CpuBackend backend;
    readonly TapClass[] classes;
    readonly int inPerGroup, outPerGroup, outPixels, maxColumns, maxBackwardWidth;
    readonly float[]? bias;

    public CpuConv2d(CpuBackend backend, Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias)
    {
        const string op = "Conv2d";
        Validate(spec);
        ShapeException.RequireExact(op, "weight", weight.Length,
            spec.OutChannels, spec.InChannels / spec.Groups, spec.KernelHeight, spec.KernelWidth);
        if (!bias.IsEmpty) ShapeException.RequireExact(op, "bias", bias.Length, spec.OutChannels);
        this.backend = backend;
        Spec = spec;
        inPerGroup = spec.InChannels / spec.Groups;
        outPerGroup = spec.OutChannels / spec.Groups;
        outPixels = spec.OutHeight * spec.OutWidth;

        var rowRuns = Runs(spec.OutHeight, o => LiveTaps(spec.KernelHeight, o, o + 1, spec.StrideH, spec.PadTop, spec.DilationH, spec.InHeight));
        var colRuns = Runs(spec.OutWidth, o => LiveTaps(spec.KernelWidth, o, o + 1, spec.StrideW, spec.PadLeft, spec.DilationW, spec.InWidth));
        // Column classes only where they cut at least a tenth of the work (a 3×3 on a 1×2 map: a third; the stem's
        // 16 columns: 5%, not worth 4× more, smaller GEMMs).
        var allCols = LiveTaps(spec.KernelWidth, 0, spec.OutWidth, spec.StrideW, spec.PadLeft, spec.DilationW, spec.InWidth);
        long split = colRuns.Sum(r => (long)(r.End - r.Start) * r.Taps.Count);
        if (split > 0.9 * spec.OutWidth * allCols.Count) colRuns = [(0, spec.OutWidth, allCols)];
        var list = new List<TapClass>();
        foreach (var (oy0, oy1, rows) in rowRuns)
            foreach (var (ox0, ox1, cols) in colRuns)
                list.Add(Prepare(spec, weight, oy0, oy1, ox0, ox1, rows, cols));
        classes = list.ToArray();
        maxColumns = classes.Max(c => c.Columns);
        maxBackwardWidth = classes.Max(c => c.Backward[0].NPadded);
        this.bias = bias.IsEmpty ? null : bias.ToArray();
    }

    /// <summary>Maximal runs of consecutive output positions whose live kernel offsets are the same.</summary>
    static List<(int Start, int End, List<int> Taps)> Runs(int extent, Func<int, List<int>> live)
    {
        var runs = new List<(int, int, List<int>)>();
        for (int o0 = 0; o0 < extent;)
        {
            var taps = live(o0);
            int o1 = o0 + 1;
            while (o1 < extent && taps.SequenceEqual(live(o1))) o1++;
            runs.Add((o0, o1, taps));
            o0 = o1;
        }
        return runs;
    }

    TapClass Prepare(Conv2dSpec spec, ReadOnlySpan<float> weight, int oy0, int oy1, int ox0, int ox1, List<int> rows, List<int> cols)
    {
        var tapH = new int[rows.Count * cols.Count];
        var tapW = new int[tapH.Length];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < cols.Count; c++) { tapH[r * cols.Count + c] = rows[r]; tapW[r * cols.Count + c] = cols[c]; }
        int columns = inPerGroup * tapH.Length;
        var forward = new PackedMatrix[spec.Groups];
        var backward = new PackedMatrix[spec.Groups];
        var dense = new float[columns * outPerGroup]; // [(tap, ci), co]
        for (int g = 0; g < spec.Groups; g++)
        {
            for (int co = 0; co < outPerGroup; co++)
                for (int ci = 0; ci < inPerGroup; ci++)
                    for (int t = 0; t < tapH.Length; t++)
                        dense[(t * inPerGroup + ci) * outPerGroup + co] =
                            weight[(((g * outPerGroup + co) * inPerGroup + ci) * spec.KernelHeight + tapH[t]) * spec.KernelWidth + tapW[t]];
            forward[g] = new PackedMatrix(columns, outPerGroup);
            forward[g].Pack(dense, outPerGroup, 1);
            backward[g] = new PackedMatrix(outPerGroup, columns);
            backward[g].Pack(dense, 1, outPerGroup);
        }
        bool runs = spec.DilationW == 1 && cols.Count > 0 && cols[^1] - cols[0] == cols.Count - 1;
        return new TapClass
        {
            Oy0 = oy0, Oy1 = oy1, Ox0 = ox0, Ox1 = ox1, TapH = tapH, TapW = tapW, Forward = forward, Backward = backward,
            RowsH = rows.ToArray(), RunKw0 = cols.Count > 0 ? cols[0] : 0, RunTaps = cols.Count, Runs = runs,
        };
    }

    public Conv2dSpec Spec { get; }

    /// <summary>Kernel taps kept in each tap class (row-major over row and column runs) after pruning those that only read padding.</summary>
    public int[] ClassTapCounts => classes.Select(c => c.TapH.Length).ToArray();

    /// <summary>Kernel offsets k that read real input for some output position in [o0, o1).</summary>
    static List<int> LiveTaps(int kernel, int o0, int o1, int stride, int padBegin, int dilation, int inExtent)
    {
        var live = new List<int>();
        for (int k = 0; k < kernel; k++)
            for (int o = o0; o < o1; o++)
            {
                int i = o * stride - padBegin + k * dilation;
                if (i >= 0 && i < inExtent) { live.Add(k); break; }
            }
        return live;
    }

    static void Validate(Conv2dSpec s)
    {
        if (s.InChannels <= 0 || s.OutChannels <= 0 || s.InHeight <= 0 || s.InWidth <= 0 || s.KernelHeight <= 0 ||
            s.KernelWidth <= 0 || s.StrideH <= 0 || s.StrideW <= 0 || s.DilationH <= 0 || s.DilationW <= 0 || s.Groups <= 0 ||
            s.PadTop < 0 || s.PadLeft < 0 || s.PadBottom < 0 || s.PadRight < 0)
            throw new ShapeException($"Conv2d: invalid spec {s}");
        if (s.InChannels % s.Groups != 0 || s.OutChannels % s.Groups != 0)
            throw new ShapeException($"Conv2d: channels {s.InChannels}→{s.OutChannels} are not divisible by {s.Groups} groups");
        if (s.OutHeight <= 0 || s.OutWidth <= 0)
            throw new ShapeException($"Conv2d: kernel larger than the padded input: {s} gives output {s.OutHeight}×{s.OutWidth}");
    }

    /// <summary>
    /// Samples per parallel block: about <see cref="TargetRows"/> GEMM rows, at least 4 blocks per thread, and a
    /// multiple of the unit that makes every tap class's row count a multiple of the 12-row micro-kernel (row tails
    /// fall back to narrower kernels).
    /// </summary>
    int SamplesPerBlock(int batch)
    {
        int unit = 1;
        foreach (var k in classes)
        {
            int pixels = k.Pixels;
            unit = Lcm(unit, GemmKernel.MR512 / Gcd(GemmKernel.MR512, pixels));
        }
        int target = Math.Max(1, (TargetRows + outPixels - 1) / outPixels);
        int forBalance = Math.Max(1, batch / (4 * backend.Threads));
        int wanted = Math.Min(target, forBalance);
        // Nearest multiple of the unit (at least one unit); never more samples than the batch.
        int perBlock = Math.Max(unit, (wanted + unit / 2) / unit * unit);
        return Math.Max(1, Math.Min(perBlock, batch));
    }

    static int Gcd(int a, int b) { while (b != 0) (a, b) = (b, a % b); return a; }

    static int Lcm(int a, int b) => a / Gcd(a, b) * b;

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false)
    {
        const string op = "Conv2d";
        if (batch < 0) throw new ShapeException($"{op}: batch {batch} is negative");
        var s = Spec;
        ShapeException.RequireShape(op, "x", x, batch, s.InChannels, s.InHeight, s.InWidth);
        ShapeException.RequireShape(op, "y", y, batch, s.OutChannels, s.OutHeight, s.OutWidth);
        var xa = backend.Own(x, op, "x").Array;
        var ya = backend.Own(y, op, "y").Array;
        int perBlock = SamplesPerBlock(batch);
        int blocks = (batch + perBlock - 1) / perBlock;
        bool simd = backend.Simd;
        int plane = s.InHeight * s.InWidth * inPerGroup;
        backend.ParallelFor(blocks, block =>
        {
            int s0 = block * perBlock, count = Math.Min(perBlock, batch - s0), rows = count * outPixels;
            var a = backend.Scratch.Rent((long)rows * Math.Max(1, maxColumns));
            var c = backend.Scratch.Rent((long)rows * outPerGroup);
            var staging = backend.Scratch.Rent((long)count * plane);
            try
            {
                fixed (float* xp = xa) fixed (float* yp = ya) fixed (float* ap = a) fixed (float* cp = c) fixed (float* bp = bias)
                fixed (float* sp = staging)
                    for (int g = 0; g < s.Groups; g++)
                    {
                        StageChannelsLast(xp, s0, count, g, sp);
                        foreach (var k in classes)
                        {
                            int classRows = count * k.Pixels;
                            Im2col(k, sp, count, ap);
                            GemmKernel.Multiply(simd, classRows, ap, k.Columns, k.Forward[g], 0, k.Forward[g].Panels, cp, outPerGroup, false);
                            StoreNchw(k, cp, s0, count, g, yp, bp, fuseRelu);
                        }
                    }
            }
            finally
            {
                backend.Scratch.Return(a);
                backend.Scratch.Return(c);
                backend.Scratch.Return(staging);
            }
        });
    }

    public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx) => Backward(batch, null, dy, dx);

    /// <summary>The input backward with a fused ReLU's mask applied per block as dy is gathered (no full masking pass).</summary>
    public void BackwardInputMasked(int batch, DeviceBuffer<float> reluOutput, DeviceBuffer<float> dy, DeviceBuffer<float> dx) =>
        Backward(batch, reluOutput ?? throw new ArgumentNullException(nameof(reluOutput)), dy, dx);

    void Backward(int batch, DeviceBuffer<float>? reluOutput, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "Conv2dBackward";
        if (batch < 0) throw new ShapeException($"{op}: batch {batch} is negative");
        var s = Spec;
        ShapeException.RequireShape(op, "dy", dy, batch, s.OutChannels, s.OutHeight, s.OutWidth);
        ShapeException.RequireShape(op, "dx", dx, batch, s.InChannels, s.InHeight, s.InWidth);
        if (reluOutput is not null) ShapeException.RequireShape(op, "reluOutput", reluOutput, batch, s.OutChannels, s.OutHeight, s.OutWidth);
        var dya = backend.Own(dy, op, "dy").Array;
        var dxa = backend.Own(dx, op, "dx").Array;
        var ya = reluOutput is null ? null : backend.Own(reluOutput, op, "reluOutput").Array;
        int perBlock = SamplesPerBlock(batch);
        int blocks = (batch + perBlock - 1) / perBlock;
        bool simd = backend.Simd;
        int plane = s.InHeight * s.InWidth * inPerGroup, groupPlanes = outPerGroup * outPixels;
        backend.ParallelFor(blocks, block =>
        {
            int s0 = block * perBlock, count = Math.Min(perBlock, batch - s0), rows = count * outPixels;
            var a = backend.Scratch.Rent((long)rows * outPerGroup);
            var d = backend.Scratch.Rent((long)rows * Math.Max(1, maxBackwardWidth));
            var staging = backend.Scratch.Rent((long)count * plane);
            var masked = ya is null ? null : backend.Scratch.Rent((long)count * groupPlanes);
            try
            {
                fixed (float* dyp = dya) fixed (float* yp = ya) fixed (float* mp = masked)
                fixed (float* dxp = dxa) fixed (float* ap = a) fixed (float* dp = d) fixed (float* sp = staging)
                    for (int g = 0; g < s.Groups; g++)
                    {
                        // dy of this block and group: straight from dy, or masked into scratch first.
                        long sampleStride = (long)s.OutChannels * outPixels;
                        float* source = dyp + (long)s0 * sampleStride + (long)g * groupPlanes;
                        if (mp != null)
                        {
                            for (int n = 0; n < count; n++)
                                MaskRelu(yp + (long)(s0 + n) * sampleStride + (long)g * groupPlanes, source + n * sampleStride,
                                    mp + (long)n * groupPlanes, groupPlanes);
                            source = mp;
                            sampleStride = groupPlanes;
                        }
                        new Span<float>(sp, count * plane).Clear();
                        foreach (var k in classes)
                        {
                            int classRows = count * k.Pixels, ldd = Math.Max(1, k.Backward[g].NPadded);
                            GatherRows(k, source, sampleStride, count, ap);
                            GemmKernel.Multiply(simd, classRows, ap, outPerGroup, k.Backward[g], 0, k.Backward[g].Panels, dp, ldd, false, paddedC: true);
                            Col2im(k, dp, ldd, count, sp);
                        }
                        UnstageChannelsLast(sp, s0, count, g, dxp);
                    }
            }
            finally
            {
                backend.Scratch.Return(a);
                backend.Scratch.Return(d);
                backend.Scratch.Return(staging);
                if (masked is not null) backend.Scratch.Return(masked);
            }
        });
    }

    /// <summary>masked = dy where y &gt; 0, else +0: the same bytes as <see cref="CpuBackend.ReluBackward"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void MaskRelu(float* y, float* dy, float* masked, int count)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= count; i += 8)
                (Vector256.Load(dy + i) & Vector256.GreaterThan(Vector256.Load(y + i), Vector256<float>.Zero)).Store(masked + i);
        for (; i < count; i++) masked[i] = y[i] > 0f ? dy[i] : 0f;
    }

    /// <summary>staging[n, pixel, ci] = x[s0 + n, group channel ci, pixel]: every live tap becomes one contiguous copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void StageChannelsLast(float* x, int s0, int count, int g, float* staging)
    {
        var s = Spec;
        int plane = s.InHeight * s.InWidth, cin = inPerGroup;
        for (int n = 0; n < count; n++)
            Transpose.Run(x + ((long)(s0 + n) * s.InChannels + g * cin) * plane, plane, staging + (long)n * plane * cin, cin, cin, plane);
    }

    /// <summary>dx[s0 + n, group channel ci, pixel] = staging[n, pixel, ci].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void UnstageChannelsLast(float* staging, int s0, int count, int g, float* dx)
    {
        var s = Spec;
        int plane = s.InHeight * s.InWidth, cin = inPerGroup;
        for (int n = 0; n < count; n++)
            Transpose.Run(staging + (long)n * plane * cin, cin, dx + ((long)(s0 + n) * s.InChannels + g * cin) * plane, plane, plane, cin);
    }

    /// <summary>a[(sample, class pixel), (tap, ci)] = staged x, or 0 where the tap reads padding.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Im2col(TapClass k, float* staging, int count, float* a)
    {
        var s = Spec;
        int taps = k.TapH.Length, h = s.InHeight, w = s.InWidth, cin = inPerGroup, columns = k.Columns;
        int pixels = k.Pixels, cw = k.Width, run = k.RunTaps * cin;
        for (int n = 0; n < count; n++)
        {
            float* xs = staging + (long)n * h * w * cin;
            for (int p = 0; p < pixels; p++)
            {
                int oy = k.Oy0 + p / cw, ox = k.Ox0 + p % cw;
                int y0 = oy * s.StrideH - s.PadTop, x0 = ox * s.StrideW - s.PadLeft;
                float* row = a + ((long)n * pixels + p) * columns;
                if (k.Runs)
                {
                    // One contiguous copy per kernel row, zero-filled where the run leaves the input on either side.
                    int ix0 = x0 + k.RunKw0, lo = Math.Max(0, -ix0), hi = Math.Min(k.RunTaps, w - ix0);
                    foreach (int kh in k.RowsH)
                    {
                        int iy = y0 + kh * s.DilationH;
                        if ((uint)iy >= (uint)h || hi <= lo) { Zero(row, run); row += run; continue; }
                        if (lo > 0) Zero(row, lo * cin);
                        Copy(xs + (iy * w + ix0 + lo) * cin, row + lo * cin, (hi - lo) * cin);
                        if (hi < k.RunTaps) Zero(row + hi * cin, (k.RunTaps - hi) * cin);
                        row += run;
                    }
                    continue;
                }
                for (int t = 0; t < taps; t++)
                {
                    int iy = y0 + k.TapH[t] * s.DilationH, ix = x0 + k.TapW[t] * s.DilationW;
                    if ((uint)iy < (uint)h && (uint)ix < (uint)w) Copy(xs + (iy * w + ix) * cin, row + t * cin, cin);
                    else Zero(row + t * cin, cin);
                }
            }
        }
    }

    /// <summary>staging[n, pixel, ci] += the class's rows of d scattered back to the input pixels they read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Col2im(TapClass k, float* d, int ldd, int count, float* staging)
    {
        var s = Spec;
        int taps = k.TapH.Length, h = s.InHeight, w = s.InWidth, cin = inPerGroup;
        int pixels = k.Pixels, cw = k.Width, run = k.RunTaps * cin;
        for (int n = 0; n < count; n++)
        {
            float* xs = staging + (long)n * h * w * cin;
            for (int p = 0; p < pixels; p++)
            {
                int oy = k.Oy0 + p / cw, ox = k.Ox0 + p % cw;
                int y0 = oy * s.StrideH - s.PadTop, x0 = ox * s.StrideW - s.PadLeft;
                float* row = d + ((long)n * pixels + p) * ldd;
                if (k.Runs)
                {
                    int ix0 = x0 + k.RunKw0, lo = Math.Max(0, -ix0), hi = Math.Min(k.RunTaps, w - ix0);
                    foreach (int kh in k.RowsH)
                    {
                        int iy = y0 + kh * s.DilationH;
                        if ((uint)iy < (uint)h && hi > lo) AddTo(row + lo * cin, xs + (iy * w + ix0 + lo) * cin, (hi - lo) * cin);
                        row += run;
                    }
                    continue;
                }
                for (int t = 0; t < taps; t++)
                {
                    int iy = y0 + k.TapH[t] * s.DilationH, ix = x0 + k.TapW[t] * s.DilationW;
                    if ((uint)iy < (uint)h && (uint)ix < (uint)w) AddTo(row + t * cin, xs + (iy * w + ix) * cin, cin);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(float* source, float* destination, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(source + i), destination + i);
        if (i + 4 <= count) { Vector128.Store(Vector128.Load(source + i), destination + i); i += 4; }
        for (; i < count; i++) destination[i] = source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Zero(float* destination, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256<float>.Zero, destination + i);
        if (i + 4 <= count) { Vector128.Store(Vector128<float>.Zero, destination + i); i += 4; }
        for (; i < count; i++) destination[i] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddTo(float* source, float* destination, int count)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(destination + i) + Vector256.Load(source + i), destination + i);
        if (i + 4 <= count) { Vector128.Store(Vector128.Load(destination + i) + Vector128.Load(source + i), destination + i); i += 4; }
        for (; i < count; i++) destination[i] += source[i];
    }

    /// <summary>y[sample, group channels, class pixels] = relu?(c + bias): the epilogue in place on c, then a transpose to NCHW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void StoreNchw(TapClass k, float* c, int s0, int count, int g, float* y, float* bias, bool relu)
    {
        var s = Spec;
        int pixels = k.Pixels, ow = s.OutWidth;
        GemmKernel.Epilogue(count * pixels, 0, outPerGroup, c, outPerGroup, bias == null ? null : bias + g * outPerGroup, relu);
        // Whole output rows are one contiguous pixel range; a column class is one segment per output row.
        int segment = k.Width == ow ? pixels : k.Width, segments = pixels / segment;
        for (int n = 0; n < count; n++)
        {
            float* plane = y + ((long)(s0 + n) * s.OutChannels + g * outPerGroup) * outPixels;
            for (int r = 0; r < segments; r++)
                Transpose.Run(c + ((long)n * pixels + r * segment) * outPerGroup, outPerGroup,
                    plane + (k.Oy0 + r) * ow + k.Ox0, outPixels, segment, outPerGroup);
        }
    }

    /// <summary>a[(sample, class pixel), co] = planes[sample · sampleStride + co · outPixels + pixel] (one group's dy planes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void GatherRows(TapClass k, float* planes, long sampleStride, int count, float* a)
    {
        var s = Spec;
        int pixels = k.Pixels, ow = s.OutWidth;
        int segment = k.Width == ow ? pixels : k.Width, segments = pixels / segment;
        for (int n = 0; n < count; n++)
        {
            float* plane = planes + n * sampleStride;
            for (int r = 0; r < segments; r++)
                Transpose.Run(plane + (k.Oy0 + r) * ow + k.Ox0, outPixels,
                    a + ((long)n * pixels + r * segment) * outPerGroup, outPerGroup, outPerGroup, segment);
        }
    }

    public void Dispose() { }
}
