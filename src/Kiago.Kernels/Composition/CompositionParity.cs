using Kiago.Kernels;
using Kiago.Kernels.Cpu;
using Kiago.Kernels.Ilgpu;

namespace Kiago.Kernels.Composition;

/// <summary>
/// The ILGPU composition kernel against the CPU one on seeded random θ (a degenerate row, masked elements, a fixed
/// part, the integer loss on): x, flags, L_int, chosen N, ∂/∂θ and the top-k mask. Used by the tests on ILGPU's CPU
/// accelerator and by <c>kiago check-device</c> on a GPU — where it caught MathF.Round miscompiling on CUDA.
/// </summary>
public static class CompositionParity
{
    const int E = CompositionSpec.Elements;

    public static IReadOnlyList<ParityResult> Run(IlgpuBackend device, IntegerDistance distance, int batch = 37)
    {
        var allowed = new float[E];
        for (int e = 0; e < 86; e++) allowed[e] = 1f;
        allowed[25] = 0f;
        var fixedPart = new float[E];
        fixedPart[0] = 0.25f;
        var spec = new CompositionSpec(allowed, fixedPart, Enumerable.Range(1, 30), distance);
        var rng = new Random(77); // seeded: System.Random(seed) is the same stream on every runtime
        var theta = new float[batch * E];
        var top = new float[batch * E];
        var gradX = new float[batch * E];
        for (int i = 0; i < theta.Length; i++)
        {
            double u = rng.NextDouble();
            theta[i] = u < 0.2 ? (float)rng.NextDouble() : u < 0.25 ? -0.3f : 0f;
            top[i] = rng.NextDouble() < 0.8 ? 1f : 0f;
            gradX[i] = (float)(rng.NextDouble() - 0.5);
        }
        for (int e = 0; e < E; e++) theta[e] = -1f; // row 0 degenerate: flagged, x = fixed part, zero gradient

        using var cpu = new CpuBackend(1);
        var c = Outputs.Of(cpu, new CompositionKernelCpu(spec), theta, top, gradX);
        var g = Outputs.Of(device, new CompositionKernelIlgpu(device, spec), theta, top, gradX);
        string name = $"composition kernel ({distance}, batch {batch})";
        // Candidates whose best N differs by a near-tie (summation order) are left out of the gradient comparison.
        var sameN = Enumerable.Range(0, batch).Where(b => c.N[b] == g.N[b]).ToArray();
        return
        [
            Compare($"{name} x", c.X, g.X, 1e-6),
            Compare($"{name} flags", c.Flags, g.Flags, 0),
            Compare($"{name} integer loss", c.Lint, g.Lint, 1e-5),
            new ParityResult($"{name} chosen N ({batch - sameN.Length} of {batch} differ; ≤ 2 near-ties allowed)",
                Math.Max(0, batch - sameN.Length - 2), 1, 0),
            Compare($"{name} grad theta", Rows(c.Grad, sameN), Rows(g.Grad, sameN), 1e-4),
            Compare($"{name} top-3 mask", c.Top, g.Top, 0),
        ];
    }

    static float[] Rows(float[] values, int[] rows) => rows.SelectMany(b => values.AsSpan(b * E, E).ToArray()).ToArray();

    static ParityResult Compare(string name, float[] expected, float[] actual, double tolerance) =>
        ParityResult.Of(name, expected, actual, tolerance);

    static ParityResult Compare(string name, int[] expected, int[] actual, double tolerance) =>
        ParityResult.Of(name, expected.Select(v => (float)v).ToArray(), actual.Select(v => (float)v).ToArray(), tolerance);

    sealed record Outputs(float[] X, int[] Flags, float[] Lint, int[] N, float[] Grad, float[] Top)
    {
        public static Outputs Of(IBackend backend, ICompositionKernel kernel, float[] theta, float[] top, float[] gradX)
        {
            int batch = theta.Length / E;
            using var _ = kernel;
            DeviceBuffer<float> Up(float[] v)
            {
                var b = backend.Allocate<float>(v.Length);
                backend.Upload<float>(v, b);
                return b;
            }
            using var tb = Up(theta);
            using var mb = Up(top);
            using var gxb = Up(gradX);
            using var xb = backend.Allocate<float>(theta.Length);
            using var gb = backend.Allocate<float>(theta.Length);
            using var lb = backend.Allocate<float>(batch);
            using var fb = backend.Allocate<int>(batch);
            using var nb = backend.Allocate<int>(batch);
            using var topOut = backend.Allocate<float>(theta.Length);
            kernel.Forward(batch, tb, mb, xb, fb, true, lb, nb);
            kernel.Backward(batch, tb, mb, gxb, fb, 0.3f, nb, gb);
            kernel.BuildTopMask(batch, xb, 3, topOut);
            T[] Get<T>(DeviceBuffer<T> b) where T : unmanaged
            {
                var a = new T[b.Length];
                backend.Download(b, a.AsSpan());
                return a;
            }
            return new Outputs(Get(xb), Get(fb), Get(lb), Get(nb), Get(gb), Get(topOut));
        }
    }
}
