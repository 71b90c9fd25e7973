using System.Diagnostics;
using System.Globalization;
using Kiago.Kernels.Composition;
using Kiago.Design.Initialisers;
using Kiago.Design.Optimiser;
using Kiago.Design.Pipeline;
using Kiago.Kernels;
using Kiago.Kernels.Ilgpu;
using Kiago.Nets;

namespace Kiago.Cli.Design;

/// <summary>
/// Whole optimiser steps (composition kernel, both predictors forward + input backward, kernel backward, Adam) timed
/// the way shared/peer/kiago_torch.py times its loop: warm-up steps first, then the full two-stage schedule.
/// </summary>
public static class WholeStepBenchmark
{
    public static string Run(IBackend backend, ICompositionModel tc, ICompositionModel ef, DesignSettings settings, DesignBase b,
        TextWriter? log, int warmupSteps = 3)
    {
        var resolved = BaseDesigner.Check(settings, b);
        var spec = new CompositionSpec(resolved.Allowed, resolved.Fixed, resolved.NSet, settings.Distance);
        int batch = settings.Candidates;
        var theta = Initialiser.Draw(settings.InitialiserFor(b), b.Composition.ToFractionVector(), resolved.Allowed, settings.ElementFrequencies,
            batch, DesignRandom.ForStream(settings.Seed, 0, "init"));
        using var kernel = backend.CreateCompositionKernel(spec);
        var timed = settings.Optimiser with { TraceEvery = Math.Max(1, settings.Optimiser.Steps / 10) };
        using (var warm = new DesignOptimiser(backend, kernel, tc, ef, timed with { Steps = warmupSteps }, batch))
            warm.Run(theta);
        using var optimiser = new DesignOptimiser(backend, kernel, tc, ef, timed, batch);
        log?.WriteLine($"benchmark: {backend.DeviceName}; {batch} candidates x {timed.Steps} steps; load {Load()}");
        backend.Synchronize();
        long start = Stopwatch.GetTimestamp();
        var result = optimiser.Run(theta);
        backend.Synchronize();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double rate = batch * (double)timed.Steps / seconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"kiago candidates={batch} steps={timed.Steps} device={backend.Kind} seconds={seconds:F6} candidate_steps_per_s={rate:F3} " +
            $"ms_per_step={1000 * seconds / timed.Steps:F4} peak_working_set_mb={Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} " +
            $"final_mean_tc={result.FinalTc.Average():F3}{DeviceMemory(backend)}");
    }

    /// <summary>On an ILGPU device: the peak of Kiago's own buffers and the device memory in use now (context included).</summary>
    static string DeviceMemory(IBackend backend) => backend switch
    {
        IlgpuBackend { Kind: DeviceKind.Cuda } cuda => string.Create(CultureInfo.InvariantCulture,
            $" device_peak_buffers_mb={cuda.PeakBytes / (1 << 20)} device_in_use_mb={(cuda.DeviceMemoryBytes - cuda.FreeMemoryBytes) / (1 << 20)}"),
        IlgpuBackend ilgpu => string.Create(CultureInfo.InvariantCulture, $" device_peak_buffers_mb={ilgpu.PeakBytes / (1 << 20)}"),
        _ => "",
    };

    static string Load()
    {
        try { return File.ReadAllText("/proc/loadavg").Trim(); }
        catch (IOException) { return "unknown"; }
    }
}
