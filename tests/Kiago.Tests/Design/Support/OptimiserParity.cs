using Kiago.Kernels.Composition;
using Kiago.Design.Initialisers;
using Kiago.Design.Optimiser;
using Kiago.Kernels;

namespace Kiago.Tests.Design.Support;

/// <summary>A short seeded optimisation (16 candidates × 8 steps, stage switch included) on a given backend.</summary>
public static class OptimiserParity
{
    public static OptimiserResult Run(IBackend backend, bool disposeBackend = true)
    {
        const int E = 118, batch = 16;
        try
        {
            using var tc = new MlpTestModel(backend, 101, outputScale: 80f, outputBias: 20f);
            using var ef = new MlpTestModel(backend, 202, outputScale: 2f, name: "ef", unit: "eV/atom");
            var allowed = new float[E];
            for (int e = 0; e < 86; e++) allowed[e] = 1f;
            var spec = new CompositionSpec(allowed, new float[E], Enumerable.Range(1, 20));
            using var kernel = backend.CreateCompositionKernel(spec);
            var baseX = new double[E];
            baseX[56] = 1; baseX[25] = 1; baseX[32] = 1; baseX[7] = 1; // LaFeAsO
            var theta = Initialiser.Draw(new ReferenceInitialiser(), baseX, allowed, default, batch, DesignRandom.ForStream(1, 0, "init"));
            using var opt = new DesignOptimiser(backend, kernel, tc, ef, new OptimiserOptions { Steps = 8, MaxElements = 3, TraceEvery = 4 }, batch);
            return opt.Run(theta);
        }
        finally
        {
            if (disposeBackend) backend.Dispose();
        }
    }
}
