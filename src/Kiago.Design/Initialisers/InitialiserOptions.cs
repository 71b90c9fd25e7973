namespace Kiago.Design.Initialisers;

/// <summary>How the starting θ of every candidate is drawn (reference §5.5).</summary>
public abstract record InitialiserOptions;

/// <summary>
/// Reference-based (Normal, HSC): the normalised base, then mutation (each non-zero entry moves with probability
/// <see cref="MutateProbability"/> to an element drawn by training-set frequency) and perturbation (each of the
/// 118 entries gains U[0, <see cref="PerturbMax"/>) with probability <see cref="PerturbProbability"/>; row
/// renormalised). A negative probability switches that step off, as in the reference.
/// </summary>
public sealed record ReferenceInitialiser(double MutateProbability = 0.29, double PerturbProbability = 0.22, double PerturbMax = 0.03)
    : InitialiserOptions
{
    /// <summary>Reference §6 HSC settings.</summary>
    public static ReferenceInitialiser Hydride => new(0.35, 0.03, 0.49);
}

/// <summary>θ ~ U[0, 1) on all 118 entries (the reference's ES initialiser); the masks restrict it.</summary>
public sealed record RandomInitialiser : InitialiserOptions;

/// <summary>θ ~ U[0, 1) on the allowed (substituent) elements only, 0 elsewhere: same start as random after the masks.</summary>
public sealed record SubstitutionInitialiser : InitialiserOptions;
