using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Kiago.Kernels;

namespace Kiago.Kernels.Composition;

/// <summary>
/// CPU version of the fused composition kernel: rows are independent, so a Parallel.For over row blocks is
/// deterministic; inside a row the 118 elements are padded to 15 × Vector256 (padding stays 0 and adds 0 to
/// every sum and to the integer loss). Sums are taken in a fixed order. ReLU'(0) = 0 as in PyTorch.
/// </summary>
internal sealed class CompositionKernelCpu : ICompositionKernel
{
    const int E = CompositionSpec.Elements;
    const int Lanes = 8;
    const int Padded = 120;
    const int Vectors = Padded / Lanes;
    const int RowsPerBlock = 32;

    readonly float[] allowed = new float[Padded];
    readonly float[] fixedPart = new float[Padded];
    readonly int[] nSet;
    readonly float[] invN;
    readonly float freeShare;
    readonly bool absolute;
    readonly ParallelOptions parallel;

    /// <param name="threads">most threads the row blocks run on (--threads; the CPU backend's count); null = all cores</param>
    public CompositionKernelCpu(CompositionSpec spec, int? threads = null)
    {
        parallel = new ParallelOptions { MaxDegreeOfParallelism = threads ?? -1 };
        Spec = spec;
        spec.Allowed.CopyTo(allowed, 0);
        spec.Fixed.CopyTo(fixedPart, 0);
        nSet = spec.NSet;
        invN = nSet.Select(n => 1f / n).ToArray();
        freeShare = 1f - spec.FixedSum;
        absolute = spec.Distance == IntegerDistance.Absolute;
    }

    public CompositionSpec Spec { get; }

    public void Forward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> x,
        DeviceBuffer<int> flags, bool integerLoss, DeviceBuffer<float> integerLossOut, DeviceBuffer<int> chosenN)
    {
        CheckRows(batch, theta, topMask, x);
        var th = Arrays(theta); var tm = Arrays(topMask); var xs = Arrays(x);
        var fl = Arrays(flags); var li = Arrays(integerLossOut); var nc = Arrays(chosenN);
        ForBlocks(batch, (lo, hi) =>
        {
            Span<float> row = stackalloc float[Padded];
            Span<float> u1 = stackalloc float[Padded];
            Span<float> u2 = stackalloc float[Padded];
            Span<float> s = stackalloc float[Padded];
            for (int b = lo; b < hi; b++)
            {
                bool ok = Normalise(th.AsSpan(b * E, E), tm.AsSpan(b * E, E), row, u1, u2, out _, out _);
                fl[b] = ok ? 0 : 1;
                ComposeX(ok ? u2 : default, s);
                s[..E].CopyTo(xs.AsSpan(b * E, E));
                if (integerLoss)
                {
                    if (ok)
                    {
                        IntegerLoss(s, out float loss, out int n);
                        li[b] = loss; nc[b] = n;
                    }
                    else { li[b] = 0f; nc[b] = nSet[0]; }
                }
            }
        });
    }

    public void Backward(int batch, DeviceBuffer<float> theta, DeviceBuffer<float> topMask, DeviceBuffer<float> gradX,
        DeviceBuffer<int> flags, float integerScale, DeviceBuffer<int> chosenN, DeviceBuffer<float> gradTheta)
    {
        CheckRows(batch, theta, topMask, gradX, gradTheta);
        var th = Arrays(theta); var tm = Arrays(topMask); var gx = Arrays(gradX);
        var fl = Arrays(flags); var nc = Arrays(chosenN); var gt = Arrays(gradTheta);
        ForBlocks(batch, (lo, hi) =>
        {
            Span<float> a = stackalloc float[Padded];
            Span<float> u1 = stackalloc float[Padded];
            Span<float> u2 = stackalloc float[Padded];
            Span<float> x = stackalloc float[Padded];
            Span<float> g = stackalloc float[Padded];
            Span<float> m = stackalloc float[Padded];
            for (int b = lo; b < hi; b++)
            {
                var outRow = gt.AsSpan(b * E, E);
                if (fl[b] != 0) { outRow.Clear(); continue; }
                bool ok = Normalise(th.AsSpan(b * E, E), tm.AsSpan(b * E, E), a, u1, u2, out float s1, out float s2);
                if (!ok) { outRow.Clear(); continue; }
                g.Clear();
                gx.AsSpan(b * E, E).CopyTo(g);
                if (integerScale != 0f)
                {
                    ComposeX(u2, x);
                    AddIntegerGradient(x, nc[b], integerScale, g);
                }
                m.Clear();
                tm.AsSpan(b * E, E).CopyTo(m);
                BackwardRow(a, m, u1, u2, s1, s2, g);
                g[..E].CopyTo(outRow);
            }
        });
    }

    public void BuildTopMask(int batch, DeviceBuffer<float> x, int k, DeviceBuffer<float> topMask)
    {
        CheckRows(batch, x, topMask);
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be >= 1");
        var xs = Arrays(x); var tm = Arrays(topMask);
        ForBlocks(batch, (lo, hi) =>
        {
            Span<float> sorted = stackalloc float[E];
            for (int b = lo; b < hi; b++)
            {
                var row = xs.AsSpan(b * E, E);
                var mask = tm.AsSpan(b * E, E);
                float threshold;
                if (k >= E) threshold = float.NegativeInfinity;
                else
                {
                    row.CopyTo(sorted);
                    sorted.Sort();
                    threshold = sorted[E - 1 - k]; // the (k+1)-th largest
                }
                for (int e = 0; e < E; e++) mask[e] = row[e] > threshold ? 1f : 0f;
            }
        });
    }

    public void Dispose() { }

    // ---- row kernels -------------------------------------------------------------------------------------

    /// <summary>a = θ⊙m (padded into <paramref name="a"/>), u1 = σ(a), u2 = σ(u1⊙M). False when a sum is 0.</summary>
    bool Normalise(ReadOnlySpan<float> theta, ReadOnlySpan<float> top, Span<float> a, Span<float> u1, Span<float> u2,
        out float s1, out float s2)
    {
        a.Clear();
        for (int e = 0; e < E; e++) a[e] = theta[e] * top[e];
        var zero = Vector256<float>.Zero;
        var acc = zero;
        for (int v = 0; v < Vectors; v++)
        {
            var r = Vector256.Max(Load(a, v), zero);
            Store(r, u1, v);
            acc += r;
        }
        s1 = Vector256.Sum(acc);
        s2 = 0f;
        if (!(s1 > 0f)) return false;
        var inv1 = Vector256.Create(s1);
        acc = zero;
        for (int v = 0; v < Vectors; v++)
        {
            var q = Load(u1, v) / inv1;
            Store(q, u1, v);
            var r = Vector256.Max(q * Load(allowed, v), zero);
            Store(r, u2, v);
            acc += r;
        }
        s2 = Vector256.Sum(acc);
        if (!(s2 > 0f)) return false;
        var inv2 = Vector256.Create(s2);
        for (int v = 0; v < Vectors; v++) Store(Load(u2, v) / inv2, u2, v);
        return true;
    }

    /// <summary>x = (1 − Σc)·u2 + c (u2 empty: x = c).</summary>
    void ComposeX(ReadOnlySpan<float> u2, Span<float> x)
    {
        var free = Vector256.Create(freeShare);
        for (int v = 0; v < Vectors; v++)
            Store(u2.IsEmpty ? Load(fixedPart, v) : free * Load(u2, v) + Load(fixedPart, v), x, v);
    }

    void IntegerLoss(ReadOnlySpan<float> x, out float best, out int bestN)
    {
        best = float.PositiveInfinity; bestN = nSet[0];
        for (int i = 0; i < nSet.Length; i++)
        {
            var inv = Vector256.Create(invN[i]);
            var acc = Vector256<float>.Zero;
            for (int v = 0; v < Vectors; v++)
            {
                var xv = Load(x, v);
                var d = xv - Vector256.Round(xv / inv) * inv;
                acc += absolute ? Vector256.Abs(d) : d * d;
            }
            float loss = Vector256.Sum(acc);
            if (loss < best) { best = loss; bestN = nSet[i]; }
        }
    }

    /// <summary>g += scale·∂dist/∂x at N (round has zero gradient; |·|'(0) = 0 as PyTorch).</summary>
    void AddIntegerGradient(ReadOnlySpan<float> x, int n, float scale, Span<float> g)
    {
        var inv = Vector256.Create(1f / n);
        var sc = Vector256.Create(scale);
        for (int v = 0; v < Vectors; v++)
        {
            var xv = Load(x, v);
            var d = xv - Vector256.Round(xv / inv) * inv;
            Vector256<float> dd;
            if (absolute)
            {
                var one = Vector256<float>.One;
                dd = Vector256.ConditionalSelect(Vector256.GreaterThan(d, Vector256<float>.Zero), one,
                     Vector256.ConditionalSelect(Vector256.LessThan(d, Vector256<float>.Zero), -one, Vector256<float>.Zero));
            }
            else dd = d + d;
            Store(Load(g, v) + sc * dd, g, v);
        }
    }

    /// <summary>g: ∂L/∂x in, ∂L/∂θ out (in place).</summary>
    void BackwardRow(ReadOnlySpan<float> a, ReadOnlySpan<float> top, ReadOnlySpan<float> u1, ReadOnlySpan<float> u2,
        float s1, float s2, Span<float> g)
    {
        var zero = Vector256<float>.Zero;
        var free = Vector256.Create(freeShare);
        // through x = (1 − Σc)·u2 + c, then u2 = r2/s2
        var dot = zero;
        for (int v = 0; v < Vectors; v++)
        {
            var gu = free * Load(g, v);
            Store(gu, g, v);
            dot += gu * Load(u2, v);
        }
        var dot2 = Vector256.Create(Vector256.Sum(dot));
        var is2 = Vector256.Create(s2);
        dot = zero;
        for (int v = 0; v < Vectors; v++)
        {
            // r2 = ReLU(u1⊙M): gradient only where u1⊙M > 0 (u2 > 0 exactly there)
            var gr = (Load(g, v) - dot2) / is2;
            var gu1 = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(u2, v), zero), gr * Load(allowed, v), zero);
            Store(gu1, g, v);
            dot += gu1 * Load(u1, v);
        }
        var dot1 = Vector256.Create(Vector256.Sum(dot));
        var is1 = Vector256.Create(s1);
        for (int v = 0; v < Vectors; v++)
        {
            var gr = (Load(g, v) - dot1) / is1;
            var ga = Vector256.ConditionalSelect(Vector256.GreaterThan(Load(a, v), zero), gr, zero);
            Store(ga * Load(top, v), g, v);
        }
    }

    // ---- plumbing -------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Load(ReadOnlySpan<float> s, int v) => Vector256.Create(s.Slice(v * Lanes, Lanes));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector256<float> value, Span<float> s, int v) => value.CopyTo(s.Slice(v * Lanes, Lanes));

    void ForBlocks(int batch, Action<int, int> body)
    {
        int blocks = (batch + RowsPerBlock - 1) / RowsPerBlock;
        if (blocks <= 1) { body(0, batch); return; }
        Parallel.For(0, blocks, parallel, i => body(i * RowsPerBlock, Math.Min(batch, (i + 1) * RowsPerBlock)));
    }

    static T[] Arrays<T>(DeviceBuffer<T> buffer) where T : unmanaged => HostAccess.Array(buffer);

    static void CheckRows(int batch, params DeviceBuffer<float>[] rows)
    {
        foreach (var r in rows)
            if (r.Length < (long)batch * E)
                throw new ShapeException($"composition kernel: buffer of {r.Length} floats is smaller than batch {batch} × {E}");
    }
}
