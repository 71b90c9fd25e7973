using Kiago.Kernels.Composition;
using Kiago.Design.Constraints;
using Kiago.Design.Initialisers;
using Kiago.Design.Optimiser;

namespace Kiago.Design.Pipeline;

/// <summary>Everything that defines a run besides the bases and the models. Defaults = the published code's Normal experiment.</summary>
public sealed record DesignSettings
{
    public int Candidates { get; init; } = 4096;
    public long Seed { get; init; } = 0;
    public OptimiserOptions Optimiser { get; init; } = new();
    /// <summary>Null: reference-based for plain bases, substitution initialiser for substitution bases.</summary>
    public InitialiserOptions? Initialiser { get; init; }
    public DesignConstraints Constraints { get; init; } = new();
    public IntegerDistance Distance { get; init; } = IntegerDistance.Squared;
    /// <summary>Replacement weights for mutation (training-set element frequencies); null → uniform over the allowed set.</summary>
    public double[]? ElementFrequencies { get; init; }
    /// <summary>Substitution bases: how the substituents are scaled to the target's amount (default: the correct single scaling).</summary>
    public SubstitutionScaling SubstitutionScaling { get; init; } = SubstitutionScaling.Single;
    /// <summary>How integer formulas are made (published: plain round(x·N*); practical: gcd-reduced, ≤ --max-atoms atoms).</summary>
    public FormulaRules Formula { get; init; } = new();
    /// <summary>--novel-only: candidates.csv drops rows whose formula is in the known-compositions list (summaries still count every row).</summary>
    public bool NovelOnly { get; init; }

    public InitialiserOptions InitialiserFor(DesignBase b) =>
        Initialiser ?? (b.Substitution is null ? new ReferenceInitialiser() : new RandomInitialiser());

    public DesignConstraints ConstraintsFor(DesignBase b) =>
        b.Substitution is null ? Constraints : Constraints with { Substitution = b.Substitution };
}
