using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>Launch shape of a 2-D pooling op.</summary>
public struct PoolShape
{
    public int Batch, C, H, W, OH, OW, KH, KW, SH, SW, PT, PL, PB, PR, DH, DW;
    public int CountIncludePad;
    public int Count, GridStride;
}

/// <summary>
/// Max and average pooling, one thread per output element (grid-stride). Backward ops are gathers over the
/// windows that contain each input element (deterministic, no atomics), so overlapping windows (3×3/2) just work.
/// </summary>
sealed class IlgpuPool2d(IlgpuBackend backend)
{
    Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<float>, ArrayView<int>>? maxForward;
    Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>? maxBackward;
    Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<float>>? avgForward, avgBackward;

    public void MaxPool(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, DeviceBuffer<int> argmax)
    {
        const string op = "MaxPool2d";
        var s = Shape(op, spec, batch, output: true);
        var xv = backend.View(x, op, "x", (long)batch * spec.InSize);
        var yv = backend.View(y, op, "y", s.Count);
        var av = backend.View(argmax, op, "argmax", s.Count);
        if (s.Count == 0) return;
        maxForward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<float>, ArrayView<int>>>(MaxForwardKernel);
        maxForward(backend.Stream, s.GridStride, s, xv, yv, av);
    }

    public void MaxPoolBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<int> argmax, DeviceBuffer<float> dx)
    {
        const string op = "MaxPool2dBackward";
        var s = Shape(op, spec, batch, output: false);
        var dyv = backend.View(dy, op, "dy", (long)batch * spec.OutSize);
        var av = backend.View(argmax, op, "argmax", (long)batch * spec.OutSize);
        var dxv = backend.View(dx, op, "dx", s.Count);
        if (s.Count == 0) return;
        maxBackward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<int>, ArrayView<float>>>(MaxBackwardKernel);
        maxBackward(backend.Stream, s.GridStride, s, dyv, av, dxv);
    }

    public void AvgPool(Pool2dSpec spec, int batch, DeviceBuffer<float> x, DeviceBuffer<float> y)
    {
        const string op = "AvgPool2d";
        var s = Shape(op, spec, batch, output: true);
        var xv = backend.View(x, op, "x", (long)batch * spec.InSize);
        var yv = backend.View(y, op, "y", s.Count);
        if (s.Count == 0) return;
        avgForward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<float>>>(AvgForwardKernel);
        avgForward(backend.Stream, s.GridStride, s, xv, yv);
    }

    public void AvgPoolBackward(Pool2dSpec spec, int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "AvgPool2dBackward";
        var s = Shape(op, spec, batch, output: false);
        var dyv = backend.View(dy, op, "dy", (long)batch * spec.OutSize);
        var dxv = backend.View(dx, op, "dx", s.Count);
        if (s.Count == 0) return;
        avgBackward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, PoolShape, ArrayView<float>, ArrayView<float>>>(AvgBackwardKernel);
        avgBackward(backend.Stream, s.GridStride, s, dyv, dxv);
    }

    /// <summary>Count is the number of outputs (forward) or inputs (backward): one thread item each.</summary>
    PoolShape Shape(string op, Pool2dSpec p, int batch, bool output)
    {
        if (batch < 0 || p.Channels <= 0 || p.InHeight <= 0 || p.InWidth <= 0 || p.KernelHeight <= 0 || p.KernelWidth <= 0
            || p.StrideH <= 0 || p.StrideW <= 0 || p.DilationH <= 0 || p.DilationW <= 0
            || p.PadTop < 0 || p.PadLeft < 0 || p.PadBottom < 0 || p.PadRight < 0)
            throw new ShapeException($"{op}: invalid spec {p} (batch {batch})");
        if (p.OutHeight <= 0 || p.OutWidth <= 0)
            throw new ShapeException($"{op}: output map {p.OutHeight}×{p.OutWidth} is empty for {p}");
        var s = new PoolShape
        {
            Batch = batch, C = p.Channels, H = p.InHeight, W = p.InWidth, OH = p.OutHeight, OW = p.OutWidth,
            KH = p.KernelHeight, KW = p.KernelWidth, SH = p.StrideH, SW = p.StrideW,
            PT = p.PadTop, PL = p.PadLeft, PB = p.PadBottom, PR = p.PadRight, DH = p.DilationH, DW = p.DilationW,
            CountIncludePad = p.CountIncludePad ? 1 : 0,
        };
        s.Count = IlgpuBackend.Count(op, (long)batch * (output ? p.OutSize : p.InSize));
        s.GridStride = backend.GridSize(s.Count);
        return s;
    }

    /// <summary>Max over in-bounds taps; argmax is the index into the whole input buffer (first maximum wins; NaN propagates).</summary>
    [IlgpuKernel]
    internal static void MaxForwardKernel(Index1D index, PoolShape s, ArrayView<float> x, ArrayView<float> y, ArrayView<int> argmax)
    {
        for (int o = index; o < s.Count; o += s.GridStride)
        {
            int ow = o % s.OW, oh = (o / s.OW) % s.OH, plane = o / (s.OW * s.OH);
            int planeBase = plane * s.H * s.W;
            int ih0 = oh * s.SH - s.PT, iw0 = ow * s.SW - s.PL;
            float best = float.NegativeInfinity;
            int bestIndex = -1;
            for (int kh = 0; kh < s.KH; kh++)
            {
                int ih = ih0 + kh * s.DH;
                if (ih < 0 || ih >= s.H) continue;
                for (int kw = 0; kw < s.KW; kw++)
                {
                    int iw = iw0 + kw * s.DW;
                    if (iw < 0 || iw >= s.W) continue;
                    int i = planeBase + ih * s.W + iw;
                    float v = x[i];
                    if (bestIndex < 0 || v > best || IsNaN(v))
                    {
                        best = v;
                        bestIndex = i;
                        if (IsNaN(v)) { kh = s.KH; break; }
                    }
                }
            }
            y[o] = bestIndex < 0 ? 0f : best; // a window entirely on padding (possible in ceil mode) gives 0
            argmax[o] = bestIndex;
        }
    }

#pragma warning disable CS1718 // x != x is the NaN test that compiles in every ILGPU backend
    static bool IsNaN(float v) => v != v;
#pragma warning restore CS1718

    /// <summary>dx[i] = Σ dy[o] over the windows o containing i whose argmax is i.</summary>
    [IlgpuKernel]
    internal static void MaxBackwardKernel(Index1D index, PoolShape s, ArrayView<float> dy, ArrayView<int> argmax, ArrayView<float> dx)
    {
        for (int i = index; i < s.Count; i += s.GridStride)
        {
            int iw = i % s.W, ih = (i / s.W) % s.H, plane = i / (s.W * s.H);
            int outBase = plane * s.OH * s.OW;
            float sum = 0f;
            for (int kh = 0; kh < s.KH; kh++)
            {
                int th = ih + s.PT - kh * s.DH;
                if (th < 0) break;
                int oh = th / s.SH;
                if (oh * s.SH != th || oh >= s.OH) continue;
                for (int kw = 0; kw < s.KW; kw++)
                {
                    int tw = iw + s.PL - kw * s.DW;
                    if (tw < 0) break;
                    int ow = tw / s.SW;
                    if (ow * s.SW != tw || ow >= s.OW) continue;
                    int o = outBase + oh * s.OW + ow;
                    if (argmax[o] == i) sum += dy[o];
                }
            }
            dx[i] = sum;
        }
    }

    /// <summary>Taps of window start <paramref name="origin"/> that count: inside the input, or inside input + padding.</summary>
    static int CountTaps(int origin, int taps, int dilation, int extent, int padBegin, int padEnd, int includePad)
    {
        int lo = includePad != 0 ? -padBegin : 0, hi = includePad != 0 ? extent + padEnd : extent;
        int count = 0;
        for (int k = 0; k < taps; k++)
        {
            int pos = origin + k * dilation;
            if (pos >= lo && pos < hi) count++;
        }
        return count;
    }

    static int Divisor(PoolShape s, int oh, int ow) =>
        CountTaps(oh * s.SH - s.PT, s.KH, s.DH, s.H, s.PT, s.PB, s.CountIncludePad)
        * CountTaps(ow * s.SW - s.PL, s.KW, s.DW, s.W, s.PL, s.PR, s.CountIncludePad);

    [IlgpuKernel]
    internal static void AvgForwardKernel(Index1D index, PoolShape s, ArrayView<float> x, ArrayView<float> y)
    {
        for (int o = index; o < s.Count; o += s.GridStride)
        {
            int ow = o % s.OW, oh = (o / s.OW) % s.OH, plane = o / (s.OW * s.OH);
            int planeBase = plane * s.H * s.W;
            int ih0 = oh * s.SH - s.PT, iw0 = ow * s.SW - s.PL;
            float sum = 0f;
            for (int kh = 0; kh < s.KH; kh++)
            {
                int ih = ih0 + kh * s.DH;
                if (ih < 0 || ih >= s.H) continue;
                for (int kw = 0; kw < s.KW; kw++)
                {
                    int iw = iw0 + kw * s.DW;
                    if (iw >= 0 && iw < s.W) sum += x[planeBase + ih * s.W + iw];
                }
            }
            int divisor = Divisor(s, oh, ow);
            y[o] = divisor > 0 ? sum / divisor : 0f;
        }
    }

    [IlgpuKernel]
    internal static void AvgBackwardKernel(Index1D index, PoolShape s, ArrayView<float> dy, ArrayView<float> dx)
    {
        for (int i = index; i < s.Count; i += s.GridStride)
        {
            int iw = i % s.W, ih = (i / s.W) % s.H, plane = i / (s.W * s.H);
            int outBase = plane * s.OH * s.OW;
            float sum = 0f;
            for (int kh = 0; kh < s.KH; kh++)
            {
                int th = ih + s.PT - kh * s.DH;
                if (th < 0) break;
                int oh = th / s.SH;
                if (oh * s.SH != th || oh >= s.OH) continue;
                for (int kw = 0; kw < s.KW; kw++)
                {
                    int tw = iw + s.PL - kw * s.DW;
                    if (tw < 0) break;
                    int ow = tw / s.SW;
                    if (ow * s.SW != tw || ow >= s.OW) continue;
                    sum += dy[outBase + oh * s.OW + ow] / Divisor(s, oh, ow);
                }
            }
            dx[i] = sum;
        }
    }
}
