using Kiago.Kernels.Cpu;
using Kiago.Kernels.Composition;
using Kiago.Design.Initialisers;
using Kiago.Kernels;
using Kiago.Tests.Design.Support;

namespace Kiago.Tests.Design;

public class CompositionKernelTests
{
    const int E = 118;

    static CompositionSpec Spec(bool withFixed, IntegerDistance distance = IntegerDistance.Squared, int maxN = 40)
    {
        var allowed = new float[E];
        for (int e = 0; e < 86; e++) allowed[e] = 1f;
        allowed[5] = 0f; allowed[25] = 0f; // deny C and Fe
        var fixedPart = new float[E];
        if (withFixed) fixedPart[0] = 0.4f; // hydride: H fixed at 0.4 (H stays optimisable too, as the reference)
        return new CompositionSpec(allowed, fixedPart, Enumerable.Range(1, maxN), distance);
    }

    /// <summary>θ with ~20 positive entries per row, some exact zeros and negatives; half the rows top-masked.</summary>
    static (float[] Theta, float[] Top) Inputs(int batch, ulong seed)
    {
        var rng = new DesignRandom(seed);
        var theta = new float[batch * E];
        var top = new float[batch * E];
        for (int b = 0; b < batch; b++)
            for (int e = 0; e < E; e++)
            {
                double u = rng.NextDouble();
                theta[b * E + e] = u < 0.2 ? (float)(0.05 + rng.NextDouble()) : u < 0.25 ? -(float)rng.NextDouble() : 0f;
                top[b * E + e] = b % 2 == 0 || rng.NextDouble() < 0.6 ? 1f : 0f;
            }
        return (theta, top);
    }

    sealed class Run : IDisposable
    {
        public readonly CpuBackend Backend = new();
        public readonly CompositionKernelCpu Kernel;
        public readonly DeviceBuffer<float> Theta, Top, X, Lint, GradX, GradTheta;
        public readonly DeviceBuffer<int> Flags, N;
        public readonly int Batch;

        public Run(CompositionSpec spec, float[] theta, float[] top)
        {
            Batch = theta.Length / E;
            Kernel = new CompositionKernelCpu(spec);
            Theta = Up(theta); Top = Up(top);
            X = Backend.Allocate<float>(theta.Length); GradX = Backend.Allocate<float>(theta.Length);
            GradTheta = Backend.Allocate<float>(theta.Length); Lint = Backend.Allocate<float>(Batch);
            Flags = Backend.Allocate<int>(Batch); N = Backend.Allocate<int>(Batch);
        }

        DeviceBuffer<float> Up(float[] data)
        {
            var buf = Backend.Allocate<float>(data.Length);
            Backend.Upload<float>(data, buf);
            return buf;
        }

        public void Forward(bool integer = true) => Kernel.Forward(Batch, Theta, Top, X, Flags, integer, Lint, N);
        public float[] Get(DeviceBuffer<float> b) { var a = new float[b.Length]; Backend.Download(b, a.AsSpan()); return a; }
        public int[] Get(DeviceBuffer<int> b) { var a = new int[b.Length]; Backend.Download(b, a.AsSpan()); return a; }
        public void Dispose() => Backend.Dispose();
    }

    [Theory]
    [InlineData(false, IntegerDistance.Squared)]
    [InlineData(true, IntegerDistance.Squared)]
    [InlineData(true, IntegerDistance.Absolute)]
    public void Forward_matches_double_reference(bool withFixed, IntegerDistance distance)
    {
        var spec = Spec(withFixed, distance);
        var (theta, top) = Inputs(70, 11);
        using var run = new Run(spec, theta, top);
        run.Forward();
        var x = run.Get(run.X); var lint = run.Get(run.Lint); var n = run.Get(run.N); var flags = run.Get(run.Flags);
        for (int b = 0; b < run.Batch; b++)
        {
            var xr = CompositionReference.X(theta.AsSpan(b * E, E).ToArray().Select(v => (double)v).ToArray(), top.AsSpan(b * E, E), spec);
            Assert.NotNull(xr);
            Assert.Equal(0, flags[b]);
            double sum = 0;
            for (int e = 0; e < E; e++)
            {
                Assert.True(Math.Abs(x[b * E + e] - xr![e]) < 2e-7, $"row {b} element {e}: {x[b * E + e]} vs {xr[e]}");
                if (spec.Allowed[e] == 0f && spec.Fixed[e] == 0f) Assert.Equal(0f, x[b * E + e]);
                sum += x[b * E + e];
            }
            Assert.True(Math.Abs(sum - 1) < 1e-5, $"row {b} sums to {sum}");
            var (lossRef, _) = CompositionReference.IntegerLoss(xr, spec);
            double lossAtKernelN = CompositionReference.IntegerLossAt(xr, n[b], distance);
            Assert.True(Math.Abs(lint[b] - lossRef) <= 1e-4 * lossRef + 1e-6, $"row {b}: L_int {lint[b]} vs {lossRef}");
            // the kernel's N is optimal up to float32 rounding
            Assert.True(lossAtKernelN - lossRef <= 1e-4 * lossRef + 1e-6, $"row {b}: N={n[b]} gives {lossAtKernelN}, best {lossRef}");
        }
    }

    [Theory]
    [InlineData(false, IntegerDistance.Squared, 0f)]
    [InlineData(true, IntegerDistance.Squared, 0.7f)]
    [InlineData(true, IntegerDistance.Absolute, 0.05f)]
    public void Backward_matches_finite_differences(bool withFixed, IntegerDistance distance, float integerScale)
    {
        var spec = Spec(withFixed, distance, maxN: 12);
        const int batch = 6;
        var (theta, top) = Inputs(batch, 23);
        var rng = new DesignRandom(5);
        var gx = new float[batch * E];
        for (int i = 0; i < gx.Length; i++) gx[i] = (float)(rng.NextDouble() * 2 - 1);
        using var run = new Run(spec, theta, top);
        run.Backend.Upload<float>(gx, run.GradX);
        run.Forward();
        var n = run.Get(run.N);
        run.Kernel.Backward(batch, run.Theta, run.Top, run.GradX, run.Flags, integerScale, run.N, run.GradTheta);
        var grad = run.Get(run.GradTheta);

        const double h = 1e-5;
        int checkedCount = 0;
        for (int b = 0; b < batch; b++)
        {
            var th = theta.AsSpan(b * E, E).ToArray().Select(v => (double)v).ToArray();
            var tp = top.AsSpan(b * E, E).ToArray();
            double F(double[] t, out double[] rounded)
            {
                var x = CompositionReference.X(t, tp, spec)!;
                rounded = CompositionReference.Rounded(x, n[b]);
                double f = integerScale * CompositionReference.IntegerLossAt(x, n[b], distance);
                for (int e = 0; e < E; e++) f += gx[b * E + e] * x[e];
                return f;
            }
            for (int e = 0; e < E; e++)
            {
                double g = grad[b * E + e];
                if (th[e] <= 0 || tp[e] == 0f)
                {
                    Assert.Equal(0.0, g); // ReLU'(0) = 0 and masked-out θ: exactly no gradient
                    continue;
                }
                var plus = (double[])th.Clone(); plus[e] += h;
                var minus = (double[])th.Clone(); minus[e] -= h;
                F(plus, out var rp); F(minus, out var rm);
                if (!rp.SequenceEqual(rm)) continue; // a rounding kink between the two points
                if (distance == IntegerDistance.Absolute && integerScale != 0 && NearZeroDistance(plus, minus, tp, spec, n[b])) continue;
                double fd = Kiago.Tests.Kernels.ReferenceOps.PartialDerivative(t => F(t, out _), th, e, h);
                Assert.True(Math.Abs(fd - g) <= 2e-3 * Math.Max(1, Math.Abs(fd)), $"row {b} element {e}: analytic {g}, finite difference {fd}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > batch * 10, $"only {checkedCount} coordinates checked");
    }

    static bool NearZeroDistance(double[] plus, double[] minus, ReadOnlySpan<float> top, CompositionSpec spec, int n)
    {
        var xp = CompositionReference.X(plus, top, spec)!; var xm = CompositionReference.X(minus, top, spec)!;
        for (int e = 0; e < E; e++)
        {
            double dp = xp[e] - Math.Round(xp[e] * n) / n, dm = xm[e] - Math.Round(xm[e] * n) / n;
            if (Math.Sign(dp) != Math.Sign(dm)) return true;
        }
        return false;
    }

    [Fact]
    public void Zero_sum_rows_are_flagged_with_x_equal_fixed_part_and_zero_gradient()
    {
        var spec = Spec(withFixed: true);
        var theta = new float[3 * E]; var top = new float[3 * E];
        Array.Fill(top, 1f);
        for (int e = 0; e < E; e++) theta[e] = -0.5f;                 // row 0: nothing positive
        theta[E + 5] = 0.7f; theta[E + 100] = 0.2f;                   // row 1: positive only on masked elements (C, element 101)
        theta[2 * E + 7] = 0.3f; theta[2 * E + 28] = 0.6f;            // row 2: O and Cu, fine
        using var run = new Run(spec, theta, top);
        run.Backend.Fill(run.GradX, 1f, 3 * E);
        run.Forward();
        run.Kernel.Backward(3, run.Theta, run.Top, run.GradX, run.Flags, 100f, run.N, run.GradTheta);
        var flags = run.Get(run.Flags); var x = run.Get(run.X); var lint = run.Get(run.Lint); var g = run.Get(run.GradTheta);
        Assert.Equal([1, 1, 0], flags);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
        Assert.All(g, v => Assert.True(float.IsFinite(v)));
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(0f, lint[b]);
            for (int e = 0; e < E; e++) { Assert.Equal(spec.Fixed[e], x[b * E + e]); Assert.Equal(0f, g[b * E + e]); }
        }
        Assert.Equal(0.6f * 0.3f / 0.9f, x[2 * E + 7], 6); // O gets (1 − 0.4)·0.3/0.9
    }

    [Fact]
    public void Top_mask_is_strict_above_the_k_plus_first_largest()
    {
        var spec = Spec(withFixed: false);
        var x = new float[3 * E];
        float[] row0 = [0.3f, 0.2f, 0.2f, 0.1f, 0.1f, 0.05f, 0.05f];
        for (int i = 0; i < row0.Length; i++) x[i] = row0[i];
        x[E + 3] = 0.5f; x[E + 9] = 0.5f;                               // row 1: two non-zeros ≤ k: both kept
        for (int e = 0; e < 10; e++) x[2 * E + e] = 0.1f;               // row 2: ten-way tie: all dropped
        using var run = new Run(spec, new float[3 * E], new float[3 * E]);
        run.Backend.Upload<float>(x, run.X);
        run.Kernel.BuildTopMask(3, run.X, 3, run.Top);
        var m = run.Get(run.Top);
        // k = 3: threshold = 4th largest = 0.1 → keep 0.3, 0.2, 0.2
        Assert.Equal([1f, 1f, 1f, 0f, 0f, 0f, 0f], m.AsSpan(0, 7).ToArray());
        Assert.Equal(3, m.AsSpan(0, E).ToArray().Count(v => v == 1f));
        Assert.Equal(1f, m[E + 3]); Assert.Equal(1f, m[E + 9]); Assert.Equal(2, m.AsSpan(E, E).ToArray().Count(v => v == 1f));
        Assert.Equal(0, m.AsSpan(2 * E, E).ToArray().Count(v => v == 1f));
    }
}
