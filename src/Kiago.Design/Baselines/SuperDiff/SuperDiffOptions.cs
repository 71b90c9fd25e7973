namespace Kiago.Design.Baselines.SuperDiff;

/// <summary>Ancestral DDPM steps, or deterministic (η = 0) / stochastic DDIM steps.</summary>
public enum DiffusionSampler { Ddpm, Ddim }

/// <summary>
/// SuperDiff sampling settings. Defaults follow the KIAGO paper's comparison: 4096 samples, 1000 DDPM steps, ILVR
/// scale factors 1, 2, 4 and 6 (a quarter of the samples each), classifier guidance off, eqn (13)'s α = 4 when on,
/// SuperDiff's threshold scan 0.01…0.10.
/// </summary>
public sealed record SuperDiffOptions
{
    public int Samples { get; init; } = 4096;
    /// <summary>Sampling steps (≤ the denoiser's timesteps; fewer respaces the schedule).</summary>
    public int Steps { get; init; } = 1000;
    public DiffusionSampler Sampler { get; init; } = DiffusionSampler.Ddpm;
    /// <summary>DDIM's η (0 = deterministic); ignored by DDPM.</summary>
    public double DdimEta { get; init; }
    /// <summary>ILVR down-sampling factors, samples split among them in equal blocks; empty = unconditional generation.</summary>
    public IReadOnlyList<int> IlvrScales { get; init; } = [1, 2, 4, 6];
    /// <summary>Classifier-guidance weight w (0 = off): the step's mean moves by w·σ²·∇(Tc − α·Ef).</summary>
    public double GuidanceWeight { get; init; }
    /// <summary>α of eqn (13): the Ef term's weight in the guidance objective.</summary>
    public double GuidanceEfWeight { get; init; } = 4;
    public long Seed { get; init; }
    /// <summary>Thresholds scanned after sampling (amounts below are zeroed); the one with the best mean top-30 Tc is kept.</summary>
    public IReadOnlyList<double> Thresholds { get; init; } = [.. Enumerable.Range(1, 10).Select(i => i / 100.0)];
    /// <summary>Track the Tc change of each part of each step (denoising, guidance, ILVR): Table 4. Costs two Tc forwards per step.</summary>
    public bool Decompose { get; init; }
    /// <summary>Samples per denoiser call.</summary>
    public int BatchSize { get; init; } = 4096;

    /// <summary>ILVR scale of sample <paramref name="i"/> (0 when unconditional).</summary>
    public int ScaleOf(int i) => IlvrScales.Count == 0 ? 0 : IlvrScales[(int)((long)i * IlvrScales.Count / Samples)];

    /// <summary>Refuses settings the sampler cannot honour, naming the option.</summary>
    public void Validate(int denoiserTimesteps)
    {
        if (Samples < 1) throw new InputException($"--samples must be >= 1 (got {Samples})");
        if (Steps < 1 || Steps > denoiserTimesteps)
            throw new InputException($"--steps {Steps}: expected 1..{denoiserTimesteps} (the denoiser was trained with {denoiserTimesteps} timesteps)");
        foreach (int s in IlvrScales)
            if (s is < 1 or > Nets.Featurisers.DenoiserLayout.Elements)
                throw new InputException($"--ilvr-scale {s}: expected 1..{Nets.Featurisers.DenoiserLayout.Elements} (entries averaged per block)");
        if (!double.IsFinite(GuidanceWeight) || GuidanceWeight < 0) throw new InputException($"--guidance {GuidanceWeight}: expected a finite weight >= 0");
        if (!double.IsFinite(GuidanceEfWeight) || GuidanceEfWeight < 0) throw new InputException($"--guidance-ef-weight {GuidanceEfWeight}: expected a finite weight >= 0");
        if (!double.IsFinite(DdimEta) || DdimEta < 0 || DdimEta > 1) throw new InputException($"--ddim-eta {DdimEta}: expected 0..1");
        if (Thresholds.Count == 0 || Thresholds.Any(t => !double.IsFinite(t) || t < 0))
            throw new InputException("--thresholds: expected one or more finite values >= 0");
        if (BatchSize < 1) throw new InputException($"batch size must be >= 1 (got {BatchSize})");
    }
}
