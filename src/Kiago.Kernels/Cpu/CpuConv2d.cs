using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

/// <summary>
/// A frozen convolution as GEMM over rows = (sample, output pixel): im2col of a block of samples into scratch,
/// times the prepacked weight, then bias/ReLU while storing NCHW. Taps (kh, kw) that read only zero padding
/// for every output pixel are pruned at preparation, so K shrinks with the map (a 3×3 conv on a 1×1 map is a
/// 1×1 conv). The input backward is the transposed product (dy rows × W) followed by col2im, equally pruned.
/// </summary>
internal sealed unsafe class CpuConv2d : IConv2d
{
    const int TargetRows = 132;

    readonly CpuBackend backend;
    readonly int[] tapH;
    readonly int[] tapW;
    readonly int inPerGroup, outPerGroup, columns, outPixels;
    readonly PackedMatrix[] forward;
    readonly PackedMatrix[] backward;
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

        var rows = LiveTaps(spec.KernelHeight, spec.OutHeight, spec.StrideH, spec.PadTop, spec.DilationH, spec.InHeight);
        var cols = LiveTaps(spec.KernelWidth, spec.OutWidth, spec.StrideW, spec.PadLeft, spec.DilationW, spec.InWidth);
        tapH = new int[rows.Count * cols.Count];
        tapW = new int[tapH.Length];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < cols.Count; c++) { tapH[r * cols.Count + c] = rows[r]; tapW[r * cols.Count + c] = cols[c]; }
        columns = inPerGroup * tapH.Length;

        forward = new PackedMatrix[spec.Groups];
        backward = new PackedMatrix[spec.Groups];
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
        this.bias = bias.IsEmpty ? null : bias.ToArray();
    }

    public Conv2dSpec Spec { get; }

    /// <summary>Kernel taps kept after pruning those that only ever read padding.</summary>
    public int LiveTapCount => tapH.Length;

    static List<int> LiveTaps(int kernel, int outExtent, int stride, int padBegin, int dilation, int inExtent)
    {
        var live = new List<int>();
        for (int k = 0; k < kernel; k++)
            for (int o = 0; o < outExtent; o++)
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

    int SamplesPerBlock(int batch)
    {
        int perBlock = Math.Max(1, (TargetRows + outPixels - 1) / outPixels);
        int forBalance = Math.Max(1, batch / (4 * backend.Threads));
        perBlock = Math.Max(1, Math.Min(perBlock, forBalance));
        // Whole 6-row strips for the micro-kernel where possible.
        for (int k = 0; k < 5 && perBlock > 1 && perBlock * outPixels % GemmKernel.MR != 0; k++) perBlock--;
        if (perBlock * outPixels % GemmKernel.MR != 0) perBlock = Math.Max(1, Math.Min(perBlock, forBalance));
        return perBlock;
    }

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
        backend.ParallelFor(blocks, block =>
        {
            int s0 = block * perBlock, count = Math.Min(perBlock, batch - s0), rows = count * outPixels;
            var a = backend.Scratch.Rent((long)rows * Math.Max(1, columns));
            var c = backend.Scratch.Rent((long)rows * outPerGroup);
            var staging = backend.Scratch.Rent((long)s.InHeight * s.InWidth * inPerGroup);
            try
            {
                fixed (float* xp = xa) fixed (float* yp = ya) fixed (float* ap = a) fixed (float* cp = c) fixed (float* bp = bias)
                fixed (float* sp = staging)
                    for (int g = 0; g < s.Groups; g++)
                    {
                        Im2col(xp, s0, count, g, ap, sp);
                        GemmKernel.Multiply(simd, rows, ap, columns, forward[g], 0, forward[g].Panels, cp, outPerGroup, false);
                        StoreNchw(cp, s0, count, g, yp, bp, fuseRelu);
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

    public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "Conv2dBackward";
        if (batch < 0) throw new ShapeException($"{op}: batch {batch} is negative");
        var s = Spec;
        ShapeException.RequireShape(op, "dy", dy, batch, s.OutChannels, s.OutHeight, s.OutWidth);
        ShapeException.RequireShape(op, "dx", dx, batch, s.InChannels, s.InHeight, s.InWidth);
        var dya = backend.Own(dy, op, "dy").Array;
        var dxa = backend.Own(dx, op, "dx").Array;
        int perBlock = SamplesPerBlock(batch);
        int blocks = (batch + perBlock - 1) / perBlock;
        bool simd = backend.Simd;
        backend.ParallelFor(blocks, block =>
        {
            int s0 = block * perBlock, count = Math.Min(perBlock, batch - s0), rows = count * outPixels;
            var a = backend.Scratch.Rent((long)rows * outPerGroup);
            int ldd = Math.Max(1, backward[0].NPadded);
            var d = backend.Scratch.Rent((long)rows * ldd);
            var staging = backend.Scratch.Rent((long)s.InHeight * s.InWidth * inPerGroup);
            try
            {
                fixed (float* dyp = dya) fixed (float* dxp = dxa) fixed (float* ap = a) fixed (float* dp = d) fixed (float* sp = staging)
                    for (int g = 0; g < s.Groups; g++)
                    {
                        GatherRows(dyp, s0, count, g, ap);
                        GemmKernel.Multiply(simd, rows, ap, outPerGroup, backward[g], 0, backward[g].Panels, dp, ldd, false, paddedC: true);
                        Col2im(dp, ldd, s0, count, g, dxp, sp);
                    }
            }
            finally
            {
                backend.Scratch.Return(a);
                backend.Scratch.Return(d);
                backend.Scratch.Return(staging);
            }
        });
    }

    /// <summary>
    /// a[(sample, pixel), (tap, ci)] = x or 0 where the tap reads padding. Each sample's group channels are first
    /// staged channels-last, so every live tap is one contiguous copy of inPerGroup floats.
    /// </summary>
    void Im2col(float* x, int s0, int count, int g, float* a, float* staging)
    {
        var s = Spec;
        int taps = tapH.Length, ow = s.OutWidth, h = s.InHeight, w = s.InWidth, plane = h * w, cin = inPerGroup;
        for (int n = 0; n < count; n++)
        {
            float* xs = x + ((long)(s0 + n) * s.InChannels + g * cin) * plane;
            Transpose.Run(xs, plane, staging, cin, cin, plane);
            for (int p = 0; p < outPixels; p++)
            {
                int oy = p / ow, ox = p % ow;
                int y0 = oy * s.StrideH - s.PadTop, x0 = ox * s.StrideW - s.PadLeft;
                float* row = a + ((long)n * outPixels + p) * columns;
                for (int t = 0; t < taps; t++)
                {
                    int iy = y0 + tapH[t] * s.DilationH, ix = x0 + tapW[t] * s.DilationW;
                    if ((uint)iy < (uint)h && (uint)ix < (uint)w) Copy(staging + (iy * w + ix) * cin, row + t * cin, cin);
                    else Zero(row + t * cin, cin);
                }
            }
        }
    }

    /// <summary>dx[sample, group channels] = col2im(d): summed channels-last in staging, then transposed to NCHW.</summary>
    void Col2im(float* d, int ldd, int s0, int count, int g, float* dx, float* staging)
    {
        var s = Spec;
        int taps = tapH.Length, ow = s.OutWidth, h = s.InHeight, w = s.InWidth, plane = h * w, cin = inPerGroup;
        for (int n = 0; n < count; n++)
        {
            new Span<float>(staging, plane * cin).Clear();
            for (int p = 0; p < outPixels; p++)
            {
                int oy = p / ow, ox = p % ow;
                int y0 = oy * s.StrideH - s.PadTop, x0 = ox * s.StrideW - s.PadLeft;
                float* row = d + ((long)n * outPixels + p) * ldd;
                for (int t = 0; t < taps; t++)
                {
                    int iy = y0 + tapH[t] * s.DilationH, ix = x0 + tapW[t] * s.DilationW;
                    if ((uint)iy < (uint)h && (uint)ix < (uint)w) AddTo(row + t * cin, staging + (iy * w + ix) * cin, cin);
                }
            }
            float* xs = dx + ((long)(s0 + n) * s.InChannels + g * cin) * plane;
            Transpose.Run(staging, cin, xs, plane, plane, cin);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Copy(float* source, float* destination, int count)
    {
        if (count == 4) { Vector128.Store(Vector128.Load(source), destination); return; }
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(source + i), destination + i);
        for (; i < count; i++) destination[i] = source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Zero(float* destination, int count)
    {
        if (count == 4) { Vector128.Store(Vector128<float>.Zero, destination); return; }
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256<float>.Zero, destination + i);
        for (; i < count; i++) destination[i] = 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void AddTo(float* source, float* destination, int count)
    {
        if (count == 4) { Vector128.Store(Vector128.Load(destination) + Vector128.Load(source), destination); return; }
        int i = 0;
        for (; i + 8 <= count; i += 8) Vector256.Store(Vector256.Load(destination + i) + Vector256.Load(source + i), destination + i);
        for (; i < count; i++) destination[i] += source[i];
    }

    /// <summary>y[sample, group channels] = relu?(c + bias): the epilogue in place on c, then a transpose to NCHW.</summary>
    void StoreNchw(float* c, int s0, int count, int g, float* y, float* bias, bool relu)
    {
        var s = Spec;
        GemmKernel.Epilogue(count * outPixels, 0, outPerGroup, c, outPerGroup, bias == null ? null : bias + g * outPerGroup, relu);
        for (int n = 0; n < count; n++)
            Transpose.Run(c + (long)n * outPixels * outPerGroup, outPerGroup,
                y + ((long)(s0 + n) * s.OutChannels + g * outPerGroup) * outPixels, outPixels, outPixels, outPerGroup);
    }

    /// <summary>a[(sample, pixel), co] = dy[sample, group channel co, pixel].</summary>
    void GatherRows(float* dy, int s0, int count, int g, float* a)
    {
        var s = Spec;
        for (int n = 0; n < count; n++)
            Transpose.Run(dy + ((long)(s0 + n) * s.OutChannels + g * outPerGroup) * outPixels, outPixels,
                a + (long)n * outPixels * outPerGroup, outPerGroup, outPerGroup, outPixels);
    }

    public void Dispose() { }
}

