using System.Diagnostics;
using Kiago.Kernels.Composition;
using Kiago.Kernels;
using Kiago.Nets;

namespace Kiago.Design.Optimiser;

/// <summary>
/// Runs the two-stage KIAGO optimisation for one base, all candidates in one batch on one backend
/// (reference §5.7). Per step: composition kernel → both predictors' forward + input-backward into one
/// gradient buffer → kernel backward → one Adam update. The loss optimised is the mean over candidates, so every
/// candidate's gradient carries the 1/B of the reference. Nothing comes back to the host except every
/// <see cref="OptimiserOptions.TraceEvery"/> steps (traces, progress) and once at the stage switch.
/// </summary>
public sealed class DesignOptimiser : IDisposable
{
    const int E = CompositionSpec.Elements;
    readonly IBackend deviceBackend;
    readonly ICompositionKernel compositionKernel;
    readonly ICompositionModel tcModel, efModel;
    readonly OptimiserOptions settings;
    readonly int batchSize;
    readonly DeviceBuffer<float> theta, grad, m, v, top, fractions, gx, tcOut, efOut, integerLossOut, tcSigmaOut, efSigmaOut;
    readonly DeviceBuffer<int> chosenN, degenerateFlags;
    readonly DeviceBuffer<float>[] extraOut;
    readonly DesignObjective objective;

    /// <summary>
    /// <paramref name="tc"/>/<paramref name="ef"/>: the μ models (the flagship networks: the final Tc/Ef always come from
    /// them); <paramref name="tcUncertainty"/>/<paramref name="efUncertainty"/>: their uncertain versions, used in the
    /// step only when <see cref="OptimiserOptions.Kappa"/> &gt; 0 (see <see cref="DesignObjective"/>).
    /// </summary>
    public DesignOptimiser(IBackend backend, ICompositionKernel kernel, ICompositionModel tc, ICompositionModel ef,
        OptimiserOptions options, int batch, IUncertainCompositionModel? tcUncertainty = null, IUncertainCompositionModel? efUncertainty = null,
        IReadOnlyList<ExtraObjective>? extras = null)
    {
        options.Validate();
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "need at least one candidate");
        deviceBackend = backend; compositionKernel = kernel; tcModel = tc; efModel = ef; settings = options; batchSize = batch;
        long n = (long)batch * E;
        theta = backend.Allocate<float>(n); grad = backend.Allocate<float>(n);
        m = backend.Allocate<float>(n); v = backend.Allocate<float>(n);
        top = backend.Allocate<float>(n); fractions = backend.Allocate<float>(n); gx = backend.Allocate<float>(n);
        tcOut = backend.Allocate<float>(batch); efOut = backend.Allocate<float>(batch); integerLossOut = backend.Allocate<float>(batch);
        chosenN = backend.Allocate<int>(batch); degenerateFlags = backend.Allocate<int>(batch);
        tcSigmaOut = backend.Allocate<float>(batch); efSigmaOut = backend.Allocate<float>(batch);
        backend.Fill(tcSigmaOut, 0f, batch); backend.Fill(efSigmaOut, 0f, batch);
        objective = new DesignObjective(tc, ef, options.Alpha, options.Kappa, tcUncertainty, efUncertainty, extras);
        extraOut = [.. objective.Extras.Select(_ => backend.Allocate<float>(batch))];
    }

    /// <summary>Progress report: (trace point, steps done, total steps).</summary>
    public Action<TracePoint, int, int>? Progress { get; set; }

    public OptimiserResult Run(ReadOnlySpan<float> initialTheta, CancellationToken cancel = default)
    {
        long n = (long)batchSize * E;
        if (initialTheta.Length != n) throw new ArgumentException($"initial θ has {initialTheta.Length} values, expected {batchSize} × {E}");
        deviceBackend.Upload(initialTheta, theta);
        deviceBackend.Fill(m, 0f, n); deviceBackend.Fill(v, 0f, n); deviceBackend.Fill(top, 1f, n);
        var clock = Stopwatch.StartNew();
        var trace = new List<TracePoint>();
        int steps = settings.Steps, t0 = settings.SwitchStep;
        float[]? stage1 = null;
        if (t0 == 0) stage1 = ComposeNow();
        var adam = settings.Adam;
        float invB = 1f / batchSize;
        for (int t = 0; t < steps; t++)
        {
            cancel.ThrowIfCancellationRequested();
            float w = settings.IntegerWeightAt(t);
            bool traceNow = (t + 1) % settings.TraceEvery == 0 || t == 0 || t == steps - 1;
            compositionKernel.Forward(batchSize, theta, top, fractions, degenerateFlags, integerLoss: w != 0f || traceNow && t >= t0, integerLossOut, chosenN);
            deviceBackend.Fill(gx, 0f, n);
            objective.ForwardBackward(batchSize, fractions, tcOut, tcSigmaOut, efOut, efSigmaOut, gx, invB, extraOut);
            compositionKernel.Backward(batchSize, theta, top, gx, degenerateFlags, w * invB, chosenN, grad);
            deviceBackend.AdamUpdate(adam, t + 1, theta, grad, m, v, n);
            if (traceNow)
            {
                var point = Summarise(t, t >= t0 ? 2 : 1, w, clock.Elapsed.TotalSeconds);
                trace.Add(point);
                Progress?.Invoke(point, t + 1, steps);
            }
            if (t + 1 == t0)
            {
                stage1 = ComposeNow();
                if (settings.MaxElements > 1) compositionKernel.BuildTopMask(batchSize, fractions, settings.MaxElements, top);
            }
        }
        // final state: x(θ_final), its N*, and both predictions (no gradient)
        compositionKernel.Forward(batchSize, theta, top, fractions, degenerateFlags, integerLoss: true, integerLossOut, chosenN);
        tcModel.Forward(batchSize, fractions, tcOut);
        efModel.Forward(batchSize, fractions, efOut);
        var result = new OptimiserResult(batchSize, stage1 ?? Download(fractions, n), Download(fractions, n), Download(tcOut, batchSize),
            Download(efOut, batchSize), Download(integerLossOut, batchSize), Download(chosenN, batchSize), Download(degenerateFlags, batchSize), trace,
            clock.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>x for the current θ and mask, downloaded (stage-switch bookkeeping).</summary>
    float[] ComposeNow()
    {
        compositionKernel.Forward(batchSize, theta, top, fractions, degenerateFlags, integerLoss: false, integerLossOut, chosenN);
        return Download(fractions, (long)batchSize * E);
    }

    TracePoint Summarise(int step, int stage, float w, double elapsed)
    {
        var tc = Download(tcOut, batchSize); var ef = Download(efOut, batchSize);
        var flags = Download(degenerateFlags, batchSize);
        var lint = stage == 2 ? Download(integerLossOut, batchSize) : new float[batchSize];
        var tcSigma = objective.PenalisesTcSigma ? Download(tcSigmaOut, batchSize) : new float[batchSize];
        var efSigma = objective.PenalisesEfSigma ? Download(efSigmaOut, batchSize) : new float[batchSize];
        var extras = extraOut.Select(o => Download(o, batchSize)).ToArray();
        var extraValues = new double[extras.Length];
        double best = double.NegativeInfinity, sumTc = 0, sumEf = 0, sumInt = 0, sumLoss = 0;
        int valid = 0, flagged = 0;
        for (int b = 0; b < batchSize; b++) // fixed order: deterministic
        {
            if (flags[b] != 0) { flagged++; continue; }
            valid++;
            best = Math.Max(best, tc[b]);
            sumTc += tc[b]; sumEf += ef[b]; sumInt += lint[b];
            // κ = 0: −Tc + α·Ef exactly as before (the float expression is kept so traces stay byte-identical)
            for (int k = 0; k < extras.Length; k++) extraValues[k] = extras[k][b];
            sumLoss += objective.PenalisesTcSigma || objective.PenalisesEfSigma || extras.Length > 0
                ? objective.Loss(tc[b], tcSigma[b], ef[b], efSigma[b], extraValues) + w * lint[b]
                : -tc[b] + settings.Alpha * ef[b] + w * lint[b];
        }
        double d = Math.Max(valid, 1);
        return new TracePoint(step, stage, w, valid > 0 ? best : double.NaN, sumTc / d, sumEf / d, sumInt / d,
            sumLoss / batchSize, flagged, elapsed);
    }

    T[] Download<T>(DeviceBuffer<T> buffer, long count) where T : unmanaged
    {
        var host = new T[count];
        deviceBackend.Download(buffer, host.AsSpan());
        return host;
    }

    public void Dispose()
    {
        foreach (var b in new[] { theta, grad, m, v, top, fractions, gx, tcOut, efOut, integerLossOut, tcSigmaOut, efSigmaOut }) b.Dispose();
        foreach (var b in extraOut) b.Dispose();
        chosenN.Dispose(); degenerateFlags.Dispose();
    }
}
