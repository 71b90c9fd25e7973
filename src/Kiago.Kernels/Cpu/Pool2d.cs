using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Kiago.Kernels.Cpu;

// Max and average pooling, parallel over (sample, channel) planes. Padding never wins a max (PyTorch pads
// with −∞); the average divides by the taps inside the input, or inside the padded input with CountIncludePad
// (taps past the padding in ceil mode never count, as PyTorch).
public sealed partial class CpuBackend
{
    public void MaxPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax)
    {
        const string op = "MaxPool2d";
        CheckPool(op, spec, batch);
        ShapeException.RequireShape(op, "x", x, batch, spec.Channels, spec.InHeight, spec.InWidth);
        ShapeException.RequireShape(op, "y", y, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        ShapeException.RequireShape(op, "argmax", argmax, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        var aa = Own(argmax, op, "argmax").Array;
        if (Simd && spec.Channels % 8 == 0)
        {
            MaxPoolChannelsLast(spec, batch, xa, ya, aa);
            return;
        }
        int h = spec.InHeight, w = spec.InWidth, oh = spec.OutHeight, ow = spec.OutWidth;
        ParallelRange((long)batch * spec.Channels, (s, e) =>
        {
            for (int plane = s; plane < e; plane++)
            {
                int xo = plane * h * w, yo = plane * oh * ow;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int h0 = i * spec.StrideH - spec.PadTop, w0 = j * spec.StrideW - spec.PadLeft;
                        float best = float.NegativeInfinity;
                        int at = -1;
                        for (int kh = 0; kh < spec.KernelHeight; kh++)
                        {
                            int ih = h0 + kh * spec.DilationH;
                            if ((uint)ih >= (uint)h) continue;
                            for (int kw = 0; kw < spec.KernelWidth; kw++)
                            {
                                int iw = w0 + kw * spec.DilationW;
                                if ((uint)iw >= (uint)w) continue;
                                float v = xa[xo + ih * w + iw];
                                if (v > best || at < 0) { best = v; at = xo + ih * w + iw; }
                            }
                        }
                        ya[yo + i * ow + j] = at < 0 ? 0f : best;
                        aa[yo + i * ow + j] = at;
                    }
            }
        }, grain: 64);
    }

    /// <summary>
    /// Max pooling with 8 channels per AVX lane group: each sample is transposed channels-last, every window is a run
    /// of branch-free compare/selects (the scalar loop mispredicted on almost every tap of random data), and the
    /// maxima and argmax indices are transposed back. Same ties (first tap in kh-major order wins), NaN and
    /// empty-window rules as the scalar loop, so both give the same bytes.
    /// </summary>
    unsafe void MaxPoolChannelsLast(Pool2dSpec spec, int batch, float[] xa, float[] ya, int[] aa)
    {
        int c = spec.Channels, plane = spec.InHeight * spec.InWidth, outPlane = spec.OutHeight * spec.OutWidth;
        ParallelRange(batch, (s, e) =>
        {
            var staging = Scratch.Rent((long)plane * c);
            var best = Scratch.Rent((long)outPlane * c);
            var at = Scratch.Rent((long)outPlane * c);
            try
            {
                fixed (float* xp = xa) fixed (float* yp = ya) fixed (int* ap = aa)
                fixed (float* sp = staging) fixed (float* bp = best) fixed (float* tp = at)
                    for (int n = s; n < e; n++)
                        MaxPoolSample(spec, n, xp, yp, ap, sp, bp, (int*)tp);
            }
            finally
            {
                Scratch.Return(staging);
                Scratch.Return(best);
                Scratch.Return(at);
            }
        }, grain: Math.Max(1, 16384 / Math.Max(1, plane * c)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe void MaxPoolSample(Pool2dSpec spec, int n, float* x, float* y, int* argmax, float* staging, float* best, int* at)
    {
        int c = spec.Channels, h = spec.InHeight, w = spec.InWidth, oh = spec.OutHeight, ow = spec.OutWidth;
        int plane = h * w, outPlane = oh * ow, sampleBase = n * c * plane;
        Transpose.Run(x + (long)sampleBase, plane, staging, c, c, plane);
        int* taps = stackalloc int[spec.KernelHeight * spec.KernelWidth];
        var channelOffsets = Vector256.Create(0, plane, 2 * plane, 3 * plane, 4 * plane, 5 * plane, 6 * plane, 7 * plane);
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                int h0 = i * spec.StrideH - spec.PadTop, w0 = j * spec.StrideW - spec.PadLeft, count = 0;
                for (int kh = 0; kh < spec.KernelHeight; kh++)
                {
                    int ih = h0 + kh * spec.DilationH;
                    if ((uint)ih >= (uint)h) continue;
                    for (int kw = 0; kw < spec.KernelWidth; kw++)
                    {
                        int iw = w0 + kw * spec.DilationW;
                        if ((uint)iw < (uint)w) taps[count++] = ih * w + iw;
                    }
                }
                float* bo = best + (i * ow + j) * c;
                int* ao = at + (i * ow + j) * c;
                for (int cb = 0; cb < c; cb += 8)
                {
                    if (count == 0)
                    {
                        Vector256<float>.Zero.Store(bo + cb);
                        Vector256.Create(-1).Store(ao + cb);
                        continue;
                    }
                    var channelBase = Vector256.Create(sampleBase + cb * plane) + channelOffsets;
                    var m = Vector256.Load(staging + taps[0] * c + cb);
                    var idx = channelBase + Vector256.Create(taps[0]);
                    for (int t = 1; t < count; t++)
                    {
                        var v = Vector256.Load(staging + taps[t] * c + cb);
                        var greater = Vector256.GreaterThan(v, m);
                        m = Vector256.ConditionalSelect(greater, v, m);
                        idx = Vector256.ConditionalSelect(greater.AsInt32(), channelBase + Vector256.Create(taps[t]), idx);
                    }
                    m.Store(bo + cb);
                    idx.Store(ao + cb);
                }
            }
        Transpose.Run(best, c, y + (long)n * c * outPlane, outPlane, outPlane, c);
        Transpose.Run((float*)at, c, (float*)(argmax + (long)n * c * outPlane), outPlane, outPlane, c);
    }

    public void MaxPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx)
    {
        const string op = "MaxPool2dBackward";
        CheckPool(op, spec, batch);
        ShapeException.RequireShape(op, "dy", dy, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        ShapeException.RequireShape(op, "argmax", argmax, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        ShapeException.RequireShape(op, "dx", dx, batch, spec.Channels, spec.InHeight, spec.InWidth);
        var dya = Own(dy, op, "dy").Array;
        var aa = Own(argmax, op, "argmax").Array;
        var dxa = Own(dx, op, "dx").Array;
        int inSize = spec.InSize, outSize = spec.OutSize;
        // A sample's argmax entries point into that sample only, so samples are independent.
        ParallelRange(batch, (s, e) =>
        {
            dxa.AsSpan(s * inSize, (e - s) * inSize).Clear();
            for (int o = s * outSize; o < e * outSize; o++)
                if (aa[o] >= 0) dxa[aa[o]] += dya[o];
        }, grain: Math.Max(1, 16384 / Math.Max(1, inSize)));
    }

    public void AvgPool2d(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "AvgPool2d";
        CheckPool(op, spec, batch);
        ShapeException.RequireShape(op, "x", x, batch, spec.Channels, spec.InHeight, spec.InWidth);
        ShapeException.RequireShape(op, "y", y, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        var xa = Own(x, op, "x").Array;
        var ya = Own(y, op, "y").Array;
        int h = spec.InHeight, w = spec.InWidth, oh = spec.OutHeight, ow = spec.OutWidth;
        ParallelRange((long)batch * spec.Channels, (s, e) =>
        {
            for (int plane = s; plane < e; plane++)
            {
                int xo = plane * h * w, yo = plane * oh * ow;
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        float sum = 0f;
                        int divisor = AvgWindow(spec, i, j);
                        int h0 = i * spec.StrideH - spec.PadTop, w0 = j * spec.StrideW - spec.PadLeft;
                        for (int kh = 0; kh < spec.KernelHeight; kh++)
                        {
                            int ih = h0 + kh * spec.DilationH;
                            if ((uint)ih >= (uint)h) continue;
                            for (int kw = 0; kw < spec.KernelWidth; kw++)
                            {
                                int iw = w0 + kw * spec.DilationW;
                                if ((uint)iw < (uint)w) sum += xa[xo + ih * w + iw];
                            }
                        }
                        ya[yo + i * ow + j] = divisor == 0 ? 0f : sum / divisor;
                    }
            }
        }, grain: 64);
    }

    public void AvgPool2dBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "AvgPool2dBackward";
        CheckPool(op, spec, batch);
        ShapeException.RequireShape(op, "dy", dy, batch, spec.Channels, spec.OutHeight, spec.OutWidth);
        ShapeException.RequireShape(op, "dx", dx, batch, spec.Channels, spec.InHeight, spec.InWidth);
        var dya = Own(dy, op, "dy").Array;
        var dxa = Own(dx, op, "dx").Array;
        int h = spec.InHeight, w = spec.InWidth, oh = spec.OutHeight, ow = spec.OutWidth;
        ParallelRange((long)batch * spec.Channels, (s, e) =>
        {
            for (int plane = s; plane < e; plane++)
            {
                int xo = plane * h * w, yo = plane * oh * ow;
                dxa.AsSpan(xo, h * w).Clear();
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int divisor = AvgWindow(spec, i, j);
                        if (divisor == 0) continue;
                        float g = dya[yo + i * ow + j] / divisor;
                        int h0 = i * spec.StrideH - spec.PadTop, w0 = j * spec.StrideW - spec.PadLeft;
                        for (int kh = 0; kh < spec.KernelHeight; kh++)
                        {
                            int ih = h0 + kh * spec.DilationH;
                            if ((uint)ih >= (uint)h) continue;
                            for (int kw = 0; kw < spec.KernelWidth; kw++)
                            {
                                int iw = w0 + kw * spec.DilationW;
                                if ((uint)iw < (uint)w) dxa[xo + ih * w + iw] += g;
                            }
                        }
                    }
            }
        }, grain: 64);
    }

    /// <summary>The divisor of average-pool output (i, j).</summary>
    static int AvgWindow(Pool2dSpec spec, int i, int j)
    {
        int h0 = i * spec.StrideH - spec.PadTop, w0 = j * spec.StrideW - spec.PadLeft;
        int rows = 0, cols = 0;
        int rowLimitLow = spec.CountIncludePad ? -spec.PadTop : 0;
        int rowLimitHigh = spec.CountIncludePad ? spec.InHeight + spec.PadBottom : spec.InHeight;
        int colLimitLow = spec.CountIncludePad ? -spec.PadLeft : 0;
        int colLimitHigh = spec.CountIncludePad ? spec.InWidth + spec.PadRight : spec.InWidth;
        for (int kh = 0; kh < spec.KernelHeight; kh++)
        {
            int ih = h0 + kh * spec.DilationH;
            if (ih >= rowLimitLow && ih < rowLimitHigh) rows++;
        }
        for (int kw = 0; kw < spec.KernelWidth; kw++)
        {
            int iw = w0 + kw * spec.DilationW;
            if (iw >= colLimitLow && iw < colLimitHigh) cols++;
        }
        return rows * cols;
    }

    static void CheckPool(string op, Pool2dSpec spec, int batch)
    {
        if (batch < 0 || spec.Channels <= 0 || spec.InHeight <= 0 || spec.InWidth <= 0 || spec.KernelHeight <= 0 ||
            spec.KernelWidth <= 0 || spec.StrideH <= 0 || spec.StrideW <= 0 || spec.DilationH <= 0 || spec.DilationW <= 0 ||
            spec.PadTop < 0 || spec.PadLeft < 0 || spec.PadBottom < 0 || spec.PadRight < 0)
            throw new ShapeException($"{op}: invalid spec {spec} for batch {batch}");
        if (spec.OutHeight <= 0 || spec.OutWidth <= 0)
            throw new ShapeException($"{op}: window larger than the padded input: {spec} gives output {spec.OutHeight}×{spec.OutWidth}");
    }
}
