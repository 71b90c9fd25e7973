namespace Kiago.Design.Baselines;

/// <summary>The three experiments of the conventional element-substitution baseline (reference §8).</summary>
public enum CesMode
{
    /// <summary>A random metal of the base is replaced by random elements of one of its common oxidation states, in a random supercell.</summary>
    Normal,
    /// <summary>The JSON's target is replaced by elements of the given state; the rest stays fixed (amounts to 4 decimals).</summary>
    Substitution,
    /// <summary>The first non-H element is replaced; at most 15 atoms and 3 elements.</summary>
    Hydride,
}

/// <summary>C-ES settings; defaults are the reference's (4096 samples, 200 atoms / 10 elements, hydride 15 / 3).</summary>
public sealed record CesOptions
{
    public CesMode Mode { get; init; } = CesMode.Normal;
    public int Samples { get; init; } = 4096;
    /// <summary>Seed of our own generator (<see cref="CesRandom"/>); the reference used default_rng(1234).</summary>
    public long Seed { get; init; } = 1234;
    /// <summary>Upper bound on atoms per formula (exclusive for supercells, as the reference); null = mode default.</summary>
    public int? MaxAtoms { get; init; }
    /// <summary>Upper bound on elements per formula; null = mode default.</summary>
    public int? MaxElements { get; init; }

    public int EffectiveMaxAtoms => MaxAtoms ?? (Mode == CesMode.Hydride ? 15 : 200);
    public int EffectiveMaxElements => MaxElements ?? (Mode == CesMode.Hydride ? 3 : 10);

    /// <summary>Refuses options the generator cannot honour (an input error naming the option).</summary>
    public void Validate()
    {
        if (Samples < 1) throw new InputException($"--samples must be >= 1 (got {Samples})");
        if (EffectiveMaxAtoms < 1) throw new InputException($"--max-atoms must be >= 1 (got {EffectiveMaxAtoms})");
        if (EffectiveMaxElements < 2)
            throw new InputException($"--max-elements must be >= 2 (got {EffectiveMaxElements}): a substitution keeps at least one element of the base and adds one");
    }
}
