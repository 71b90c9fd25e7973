using ILGPU;
using ILGPU.Runtime;

namespace Kiago.Kernels.Ilgpu.Ops;

/// <summary>Launch shape of a convolution (forward or input-backward).</summary>
public struct ConvShape
{
    public int Batch, Cin, H, W, Cout, OH, OW, KH, KW, SH, SW, PT, PL, DH, DW;
    public int CinG, CoutG;
    /// <summary>Channel blocks (of <see cref="IlgpuConv2d.Block"/>) per group, on the side the kernel writes.</summary>
    public int BlocksPerGroup;
    /// <summary>Pixels written per channel block: Batch·OH·OW forward, Batch·H·W backward.</summary>
    public int Pixels;
    public int Work, GridStride;
    public int HasBias, Relu;
}

/// <summary>
/// A frozen convolution as implicit GEMM without im2col. Each thread owns one output pixel × 8 output channels
/// (accumulated in registers); consecutive threads take consecutive pixels, so input reads and output writes are
/// coalesced and the 8 weights they share are broadcast. The tap loops run over in-bounds taps only, so taps on
/// zero padding cost nothing (on a 1×1 map a 3×3 conv does 1 tap of 9). Weights are packed once:
/// forward [Cin/G·KH·KW][Cout] and backward [Cout/G·KH·KW][Cin], each padded by one block.
/// The input gradient is the transposed convolution, computed by the same scheme over input pixels (a gather,
/// so deterministic, no atomics). Ungrouped convolutions whose written channels and pixels are both at least
/// <see cref="IlgpuGemm.TiledMinimum"/> run on the shared-memory tiled kernel instead (<see cref="TiledConvPlan"/>),
/// unless KIAGO_ILGPU_GEMM=simple.
/// </summary>
public sealed class IlgpuConv2d : IConv2d
{
    public const int Block = 8;
    readonly IlgpuBackend backend;
    readonly MemoryBuffer1D<float, Stride1D.Dense> forwardWeights, backwardWeights, bias;
    readonly bool hasBias;
    Action<AcceleratorStream, Index1D, ConvShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? forward, backwardInput;
    /// <summary>Tiled plans, built here for ungrouped convs whose written channels can pass <see cref="IlgpuGemm.UsesTiled"/> (none with KIAGO_ILGPU_GEMM=simple).</summary>
    readonly TiledConvPlan? tiledForward, tiledBackward;

    internal IlgpuConv2d(IlgpuBackend backend, Conv2dSpec spec, ReadOnlySpan<float> weight, ReadOnlySpan<float> biasValues)
    {
        Validate(spec, weight.Length, biasValues.Length);
        this.backend = backend;
        Spec = spec;
        hasBias = !biasValues.IsEmpty;
        int cinG = spec.InChannels / spec.Groups, coutG = spec.OutChannels / spec.Groups, taps = spec.KernelHeight * spec.KernelWidth;
        var fw = new float[cinG * taps * spec.OutChannels + Block];
        var bw = new float[coutG * taps * spec.InChannels + Block];
        for (int co = 0; co < spec.OutChannels; co++)
        {
            int g = co / coutG, coL = co % coutG;
            for (int ciL = 0; ciL < cinG; ciL++)
                for (int t = 0; t < taps; t++)
                {
                    float w = weight[(co * cinG + ciL) * taps + t];
                    fw[(ciL * taps + t) * spec.OutChannels + co] = w;
                    bw[(coL * taps + t) * spec.InChannels + g * cinG + ciL] = w;
                }
        }
        forwardWeights = backend.UploadFrozen(fw);
        backwardWeights = backend.UploadFrozen(bw);
        bias = backend.UploadFrozen(hasBias ? biasValues.ToArray() : [0f]);
        if (spec.Groups == 1)
        {
            // Built at prepare time (not mid-step): their frozen bytes count before batch planning, and no upload syncs a step.
            var w = weight.ToArray();
            if (backend.GemmKernels.UsesTiled(spec.OutChannels, int.MaxValue)) tiledForward = TiledConvPlan.Forward(backend, spec, w);
            if (backend.GemmKernels.UsesTiled(spec.InChannels, int.MaxValue)) tiledBackward = TiledConvPlan.BackwardInput(backend, spec, w);
        }
    }

    public Conv2dSpec Spec { get; }

    public void Forward(int batch, DeviceBuffer<float> x, DeviceBuffer<float> y, bool fuseRelu = false)
    {
        const string op = "Conv2d.Forward";
        var xv = backend.View(x, op, "x", (long)batch * Spec.InSize);
        var yv = backend.View(y, op, "y", (long)batch * Spec.OutSize);
        if (batch == 0) return;
        long pixels = (long)batch * Spec.OutHeight * Spec.OutWidth;
        if (tiledForward is not null && backend.GemmKernels.UsesTiled(Spec.OutChannels, (int)Math.Min(pixels, int.MaxValue)))
        {
            tiledForward.Run(op, batch, xv, bias.View, yv, hasBias, fuseRelu);
            return;
        }
        var s = Shape(batch);
        s.BlocksPerGroup = (s.CoutG + Block - 1) / Block;
        s.Pixels = IlgpuBackend.Count(op, (long)batch * s.OH * s.OW);
        s.Work = IlgpuBackend.Count(op, (long)s.Pixels * s.BlocksPerGroup * Spec.Groups);
        s.GridStride = backend.GridSize(s.Work);
        s.HasBias = hasBias ? 1 : 0;
        s.Relu = fuseRelu ? 1 : 0;
        forward ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ConvShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(ForwardKernel);
        forward(backend.Stream, s.GridStride, s, xv, forwardWeights.View, bias.View, yv);
    }

    public void BackwardInput(int batch, DeviceBuffer<float> dy, DeviceBuffer<float> dx)
    {
        const string op = "Conv2d.BackwardInput";
        var dyv = backend.View(dy, op, "dy", (long)batch * Spec.OutSize);
        var dxv = backend.View(dx, op, "dx", (long)batch * Spec.InSize);
        if (batch == 0) return;
        long pixels = (long)batch * Spec.InHeight * Spec.InWidth;
        if (tiledBackward is not null && backend.GemmKernels.UsesTiled(Spec.InChannels, (int)Math.Min(pixels, int.MaxValue)))
        {
            tiledBackward.Run(op, batch, dyv, bias.View, dxv, false, false);
            return;
        }
        var s = Shape(batch);
        s.BlocksPerGroup = (s.CinG + Block - 1) / Block;
        s.Pixels = IlgpuBackend.Count(op, (long)batch * s.H * s.W);
        s.Work = IlgpuBackend.Count(op, (long)s.Pixels * s.BlocksPerGroup * Spec.Groups);
        s.GridStride = backend.GridSize(s.Work);
        backwardInput ??= backend.LoadKernel<Action<AcceleratorStream, Index1D, ConvShape, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(BackwardInputKernel);
        backwardInput(backend.Stream, s.GridStride, s, dyv, backwardWeights.View, bias.View, dxv);
    }

    ConvShape Shape(int batch) => new()
    {
        Batch = batch, Cin = Spec.InChannels, H = Spec.InHeight, W = Spec.InWidth,
        Cout = Spec.OutChannels, OH = Spec.OutHeight, OW = Spec.OutWidth,
        KH = Spec.KernelHeight, KW = Spec.KernelWidth, SH = Spec.StrideH, SW = Spec.StrideW,
        PT = Spec.PadTop, PL = Spec.PadLeft, DH = Spec.DilationH, DW = Spec.DilationW,
        CinG = Spec.InChannels / Spec.Groups, CoutG = Spec.OutChannels / Spec.Groups,
    };

    static void Validate(Conv2dSpec s, int weights, int biases)
    {
        const string op = "PrepareConv2d";
        if (s.InChannels <= 0 || s.OutChannels <= 0 || s.InHeight <= 0 || s.InWidth <= 0 || s.KernelHeight <= 0 || s.KernelWidth <= 0
            || s.StrideH <= 0 || s.StrideW <= 0 || s.DilationH <= 0 || s.DilationW <= 0 || s.Groups <= 0
            || s.PadTop < 0 || s.PadLeft < 0 || s.PadBottom < 0 || s.PadRight < 0)
            throw new ShapeException($"{op}: invalid spec {s}");
        if (s.InChannels % s.Groups != 0 || s.OutChannels % s.Groups != 0)
            throw new ShapeException($"{op}: channels {s.InChannels}→{s.OutChannels} are not divisible by groups {s.Groups}");
        if (s.OutHeight <= 0 || s.OutWidth <= 0)
            throw new ShapeException($"{op}: output map {s.OutHeight}×{s.OutWidth} is empty for {s}");
        if (weights != s.WeightCount)
            throw ShapeException.Mismatch(op, "weight",
                $"[{s.OutChannels}, {s.InChannels / s.Groups}, {s.KernelHeight}, {s.KernelWidth}] ({s.WeightCount})", $"({weights})");
        if (biases != 0 && biases != s.OutChannels)
            throw ShapeException.Mismatch(op, "bias", $"[{s.OutChannels}] or empty", $"[{biases}]");
    }

    /// <summary>First tap k with 0 ≤ origin + k·dilation (origin may be negative).</summary>
    static int FirstTap(int origin, int dilation) => origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;

    /// <summary>One past the last tap k &lt; taps with origin + k·dilation &lt; extent.</summary>
    static int EndTap(int origin, int dilation, int extent, int taps) =>
        origin > extent - 1 ? 0 : Math.Min(taps, (extent - 1 - origin) / dilation + 1);

    [IlgpuKernel]
    internal static void ForwardKernel(Index1D index, ConvShape s, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y)
    {
        int taps = s.KH * s.KW, mapIn = s.H * s.W, mapOut = s.OH * s.OW;
        for (int t = index; t < s.Work; t += s.GridStride)
        {
            int p = t % s.Pixels, cb = t / s.Pixels;
            int g = cb / s.BlocksPerGroup;
            int co0 = g * s.CoutG + (cb % s.BlocksPerGroup) * Block;
            int coEnd = Math.Min(co0 + Block, (g + 1) * s.CoutG);
            int ow = p % s.OW, n = p / mapOut, oh = (p / s.OW) % s.OH;
            int ih0 = oh * s.SH - s.PT, iw0 = ow * s.SW - s.PL;
            int khLo = FirstTap(ih0, s.DH), khHi = EndTap(ih0, s.DH, s.H, s.KH);
            int kwLo = FirstTap(iw0, s.DW), kwHi = EndTap(iw0, s.DW, s.W, s.KW);
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            int xChannel = (n * s.Cin + g * s.CinG) * mapIn;
            for (int ci = 0; ci < s.CinG; ci++)
            {
                for (int kh = khLo; kh < khHi; kh++)
                {
                    int xRow = xChannel + (ih0 + kh * s.DH) * s.W + iw0;
                    int wRow = (ci * taps + kh * s.KW) * s.Cout + co0;
                    for (int kw = kwLo; kw < kwHi; kw++)
                    {
                        float xv = x[xRow + kw * s.DW];
                        int wi = wRow + kw * s.Cout;
                        a0 += xv * w[wi]; a1 += xv * w[wi + 1]; a2 += xv * w[wi + 2]; a3 += xv * w[wi + 3];
                        a4 += xv * w[wi + 4]; a5 += xv * w[wi + 5]; a6 += xv * w[wi + 6]; a7 += xv * w[wi + 7];
                    }
                }
                xChannel += mapIn;
            }
            int yi = (n * s.Cout + co0) * mapOut + oh * s.OW + ow;
            Store(s, bias, y, yi, mapOut, co0, coEnd, 0, a0);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 1, a1);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 2, a2);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 3, a3);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 4, a4);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 5, a5);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 6, a6);
            Store(s, bias, y, yi, mapOut, co0, coEnd, 7, a7);
        }
    }

    static void Store(ConvShape s, ArrayView<float> bias, ArrayView<float> y, int y0, int channelStride, int c0, int cEnd, int q, float acc)
    {
        if (c0 + q >= cEnd) return;
        float v = acc;
        if (s.HasBias != 0) v += bias[c0 + q];
        if (s.Relu != 0 && v < 0f) v = 0f;
        y[y0 + q * channelStride] = v;
    }

    [IlgpuKernel]
    internal static void BackwardInputKernel(Index1D index, ConvShape s, ArrayView<float> dy, ArrayView<float> w, ArrayView<float> unusedBias, ArrayView<float> dx)
    {
        int taps = s.KH * s.KW, mapIn = s.H * s.W, mapOut = s.OH * s.OW;
        for (int t = index; t < s.Work; t += s.GridStride)
        {
            int p = t % s.Pixels, cb = t / s.Pixels;
            int g = cb / s.BlocksPerGroup;
            int ci0 = g * s.CinG + (cb % s.BlocksPerGroup) * Block;
            int ciEnd = Math.Min(ci0 + Block, (g + 1) * s.CinG);
            int iw = p % s.W, n = p / mapIn, ih = (p / s.W) % s.H;
            float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
            int dyGroup = (n * s.Cout + g * s.CoutG) * mapOut;
            // Output row oh reads this input row through tap kh when oh·SH − PT + kh·DH = ih.
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
                    int dyi = dyGroup + oh * s.OW + ow;
                    int wi = (kh * s.KW + kw) * s.Cin + ci0;
                    for (int co = 0; co < s.CoutG; co++)
                    {
                        float d = dy[dyi];
                        a0 += d * w[wi]; a1 += d * w[wi + 1]; a2 += d * w[wi + 2]; a3 += d * w[wi + 3];
                        a4 += d * w[wi + 4]; a5 += d * w[wi + 5]; a6 += d * w[wi + 6]; a7 += d * w[wi + 7];
                        dyi += mapOut;
                        wi += taps * s.Cin;
                    }
                }
            }
            int xi = (n * s.Cin + ci0) * mapIn + ih * s.W + iw;
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 0, a0);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 1, a1);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 2, a2);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 3, a3);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 4, a4);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 5, a5);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 6, a6);
            StoreInput(dx, xi, mapIn, ci0, ciEnd, 7, a7);
        }
    }

    static void StoreInput(ArrayView<float> dx, int x0, int channelStride, int c0, int cEnd, int q, float v)
    {
        if (c0 + q < cEnd) dx[x0 + q * channelStride] = v;
    }

    public void Dispose()
    {
        tiledForward?.Dispose();
        tiledBackward?.Dispose();
        backend.FreeFrozen(forwardWeights);
        backend.FreeFrozen(backwardWeights);
        backend.FreeFrozen(bias);
    }
}
