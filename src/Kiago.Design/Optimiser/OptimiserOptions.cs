using Kiago.Kernels;

namespace Kiago.Design.Optimiser;

/// <summary>How the integer-loss weight w(t) behaves in stage 2.</summary>
public enum IntegerWeightSchedule
{
    /// <summary>Published code: w(t) = W/t0·(t − t0 + 1) for t ≥ t0 (200 → 1e5 for 1000 steps).</summary>
    Ramp,
    /// <summary>Paper: a constant β for t ≥ t0.</summary>
    Constant,
    /// <summary>No integer loss (the element-substitution experiment); N is still chosen for rounding.</summary>
    Off,
}

/// <summary>The two-stage KIAGO schedule and Adam settings (reference §5.1–5.4). Defaults = the published code.</summary>
public sealed record OptimiserOptions
{
    public int Steps { get; init; } = 1000;
    public float LearningRate { get; init; } = 0.03f;
    /// <summary>α, the formation-energy weight (eV/atom → loss units).</summary>
    public float Alpha { get; init; } = 4f;
    /// <summary>k: elements kept at the stage switch (the reference applies the mask only when k &gt; 1).</summary>
    public int MaxElements { get; init; } = 8;
    public IntegerWeightSchedule IntegerSchedule { get; init; } = IntegerWeightSchedule.Ramp;
    /// <summary>W for <see cref="IntegerWeightSchedule.Ramp"/>, β for <see cref="IntegerWeightSchedule.Constant"/>.</summary>
    public double IntegerWeight { get; init; } = 1e5;
    /// <summary>
    /// κ of the uncertainty-aware objective −(μ_Tc − κσ_Tc) + α(μ_Ef + κσ_Ef) (<see cref="DesignObjective"/>); 0 = the
    /// published −Tc + α·Ef.
    /// </summary>
    public float Kappa { get; init; }
    /// <summary>Download per-candidate Tc/Ef/L_int for traces and progress every this many steps (and at the last step).</summary>
    public int TraceEvery { get; init; } = 10;

    /// <summary>t0 = steps / 2: first step of stage 2.</summary>
    public int SwitchStep => Steps / 2;

    public AdamSpec Adam => new(LearningRate);

    /// <summary>w(t) for 0-based step t.</summary>
    public float IntegerWeightAt(int step)
    {
        int t0 = SwitchStep;
        if (step < t0) return 0f;
        return IntegerSchedule switch
        {
            IntegerWeightSchedule.Ramp => (float)(IntegerWeight / Math.Max(t0, 1) * (step - t0 + 1)),
            IntegerWeightSchedule.Constant => (float)IntegerWeight,
            _ => 0f,
        };
    }

    public void Validate()
    {
        if (Steps < 1) throw new ArgumentException($"steps must be >= 1 (got {Steps})");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate)) throw new ArgumentException($"learning rate must be > 0 (got {LearningRate})");
        if (!float.IsFinite(Alpha)) throw new ArgumentException($"alpha must be finite (got {Alpha})");
        if (MaxElements < 1) throw new ArgumentException($"max elements must be >= 1 (got {MaxElements})");
        if (!(IntegerWeight >= 0) || double.IsInfinity(IntegerWeight)) throw new ArgumentException($"integer-loss weight must be >= 0 (got {IntegerWeight})");
        if (!(Kappa >= 0) || !float.IsFinite(Kappa)) throw new ArgumentException($"kappa must be a finite number >= 0 (got {Kappa})");
        if (TraceEvery < 1) throw new ArgumentException($"trace interval must be >= 1 (got {TraceEvery})");
    }
}
