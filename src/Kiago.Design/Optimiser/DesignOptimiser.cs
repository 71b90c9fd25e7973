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
    readonly IBackend _backend;
    readonly ICompositionKernel _kernel;
    readonly ICompositionModel _tc, _ef;
    readonly OptimiserOptions _options;
    readonly int _batch;
    readonly DeviceBuffer<float> _theta, _grad, _m, _v, _top, _x, _gx, _tcOut, _efOut, _lint, _tcSigma, _efSigma;
    readonly DeviceBuffer<int> _n, _flags;
    readonly DesignObjective _objective;

    /// <summary>
    /// <paramref name="tc"/>/<paramref name="ef"/>: the μ models (the flagship networks: the final Tc/Ef always come from
    /// them); <paramref name="tcUncertainty"/>/<paramref name="efUncertainty"/>: their uncertain versions, used in the
    /// step only when <see cref="OptimiserOptions.Kappa"/> &gt; 0 (see <see cref="DesignObjective"/>).
    /// </summary>
    public DesignOptimiser(IBackend backend, ICompositionKernel kernel, ICompositionModel tc, ICompositionModel ef,
        OptimiserOptions options, int batch, IUncertainCompositionModel? tcUncertainty = null, IUncertainCompositionModel? efUncertainty = null)
    {
        options.Validate();
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, "need at least one candidate");
        _backend = backend; _kernel = kernel; _tc = tc; _ef = ef; _options = options; _batch = batch;
        long n = (long)batch * E;
        _theta = backend.Allocate<float>(n); _grad = backend.Allocate<float>(n);
        _m = backend.Allocate<float>(n); _v = backend.Allocate<float>(n);
        _top = backend.Allocate<float>(n); _x = backend.Allocate<float>(n); _gx = backend.Allocate<float>(n);
        _tcOut = backend.Allocate<float>(batch); _efOut = backend.Allocate<float>(batch); _lint = backend.Allocate<float>(batch);
        _n = backend.Allocate<int>(batch); _flags = backend.Allocate<int>(batch);
        _tcSigma = backend.Allocate<float>(batch); _efSigma = backend.Allocate<float>(batch);
        backend.Fill(_tcSigma, 0f, batch); backend.Fill(_efSigma, 0f, batch);
        _objective = new DesignObjective(tc, ef, options.Alpha, options.Kappa, tcUncertainty, efUncertainty);
    }

    /// <summary>Progress report: (trace point, steps done, total steps).</summary>
    public Action<TracePoint, int, int>? Progress { get; set; }

    public OptimiserResult Run(ReadOnlySpan<float> initialTheta, CancellationToken cancel = default)
    {
        long n = (long)_batch * E;
        if (initialTheta.Length != n) throw new ArgumentException($"initial θ has {initialTheta.Length} values, expected {_batch} × {E}");
        _backend.Upload(initialTheta, _theta);
        _backend.Fill(_m, 0f, n); _backend.Fill(_v, 0f, n); _backend.Fill(_top, 1f, n);
        var clock = Stopwatch.StartNew();
        var trace = new List<TracePoint>();
        int steps = _options.Steps, t0 = _options.SwitchStep;
        float[]? stage1 = null;
        if (t0 == 0) stage1 = ComposeNow();
        var adam = _options.Adam;
        float invB = 1f / _batch;
        for (int t = 0; t < steps; t++)
        {
            cancel.ThrowIfCancellationRequested();
            float w = _options.IntegerWeightAt(t);
            bool traceNow = (t + 1) % _options.TraceEvery == 0 || t == 0 || t == steps - 1;
            _kernel.Forward(_batch, _theta, _top, _x, _flags, integerLoss: w != 0f || traceNow && t >= t0, _lint, _n);
            _backend.Fill(_gx, 0f, n);
            _objective.ForwardBackward(_batch, _x, _tcOut, _tcSigma, _efOut, _efSigma, _gx, invB);
            _kernel.Backward(_batch, _theta, _top, _gx, _flags, w * invB, _n, _grad);
            _backend.AdamUpdate(adam, t + 1, _theta, _grad, _m, _v, n);
            if (traceNow)
            {
                var point = Summarise(t, t >= t0 ? 2 : 1, w, clock.Elapsed.TotalSeconds);
                trace.Add(point);
                Progress?.Invoke(point, t + 1, steps);
            }
            if (t + 1 == t0)
            {
                stage1 = ComposeNow();
                if (_options.MaxElements > 1) _kernel.BuildTopMask(_batch, _x, _options.MaxElements, _top);
            }
        }
        // final state: x(θ_final), its N*, and both predictions (no gradient)
        _kernel.Forward(_batch, _theta, _top, _x, _flags, integerLoss: true, _lint, _n);
        _tc.Forward(_batch, _x, _tcOut);
        _ef.Forward(_batch, _x, _efOut);
        var result = new OptimiserResult(_batch, stage1 ?? Download(_x, n), Download(_x, n), Download(_tcOut, _batch),
            Download(_efOut, _batch), Download(_lint, _batch), Download(_n, _batch), Download(_flags, _batch), trace,
            clock.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>x for the current θ and mask, downloaded (stage-switch bookkeeping).</summary>
    float[] ComposeNow()
    {
        _kernel.Forward(_batch, _theta, _top, _x, _flags, integerLoss: false, _lint, _n);
        return Download(_x, (long)_batch * E);
    }

    TracePoint Summarise(int step, int stage, float w, double elapsed)
    {
        var tc = Download(_tcOut, _batch); var ef = Download(_efOut, _batch);
        var flags = Download(_flags, _batch);
        var lint = stage == 2 ? Download(_lint, _batch) : new float[_batch];
        var tcSigma = _objective.PenalisesTcSigma ? Download(_tcSigma, _batch) : new float[_batch];
        var efSigma = _objective.PenalisesEfSigma ? Download(_efSigma, _batch) : new float[_batch];
        double best = double.NegativeInfinity, sumTc = 0, sumEf = 0, sumInt = 0, sumLoss = 0;
        int valid = 0, flagged = 0;
        for (int b = 0; b < _batch; b++) // fixed order: deterministic
        {
            if (flags[b] != 0) { flagged++; continue; }
            valid++;
            best = Math.Max(best, tc[b]);
            sumTc += tc[b]; sumEf += ef[b]; sumInt += lint[b];
            // κ = 0: −Tc + α·Ef exactly as before (the float expression is kept so traces stay byte-identical)
            sumLoss += _objective.PenalisesTcSigma || _objective.PenalisesEfSigma
                ? _objective.Loss(tc[b], tcSigma[b], ef[b], efSigma[b]) + w * lint[b]
                : -tc[b] + _options.Alpha * ef[b] + w * lint[b];
        }
        double d = Math.Max(valid, 1);
        return new TracePoint(step, stage, w, valid > 0 ? best : double.NaN, sumTc / d, sumEf / d, sumInt / d,
            sumLoss / _batch, flagged, elapsed);
    }

    T[] Download<T>(DeviceBuffer<T> buffer, long count) where T : unmanaged
    {
        var host = new T[count];
        _backend.Download(buffer, host.AsSpan());
        return host;
    }

    public void Dispose()
    {
        foreach (var b in new[] { _theta, _grad, _m, _v, _top, _x, _gx, _tcOut, _efOut, _lint, _tcSigma, _efSigma }) b.Dispose();
        _n.Dispose(); _flags.Dispose();
    }
}
