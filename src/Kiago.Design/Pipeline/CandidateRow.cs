using Kiago.Design.Novelty;

namespace Kiago.Design.Pipeline;

/// <summary>
/// One output candidate. Compositions are printed as formulas pymatgen parses: <see cref="Stage1Composition"/> and
/// <see cref="FinalComposition"/> as atom fractions (6 decimals, Z order), <see cref="Formula"/> as integer counts
/// (substitution bases: the fixed part exactly, substituents to 4 decimals summing to the target's amount).
/// Tc/Ef "continuous" are on the final continuous x; "rounded" on the renormalised integer formula.
/// </summary>
public sealed record CandidateRow(
    int BaseIndex,
    string Base,
    int Rank,
    int Candidate,
    bool Degenerate,
    string Stage1Composition,
    string FinalComposition,
    string Formula,
    int N,
    int Elements,
    double IntegerLoss,
    double TcContinuous,
    double EfContinuous,
    double TcRounded,
    double EfRounded,
    bool Unique,
    bool Valid,
    bool Neutral,
    bool Electronegativity,
    bool EfNegative,
    bool AllPass,
    string Reasons)
{
    /// <summary>Atoms in the printed <see cref="Formula"/> (after rounding and, in the practical preset, gcd reduction); 0 without a formula.</summary>
    public double FormulaAtoms { get; init; }
    /// <summary>Novelty against the run's known-compositions list (<see cref="NoveltyVerdict.None"/> without a formula or a list).</summary>
    public NoveltyVerdict Novelty { get; init; } = NoveltyVerdict.None;
    /// <summary>The extra objectives on the integer formula (value, then σ where the model has one, per objective); NaN without a formula.</summary>
    public IReadOnlyList<double> Objectives { get; init; } = [];
    /// <summary>σ of the Tc predictor on the integer formula (K); NaN where the model has no uncertainty.</summary>
    public double TcSigma { get; init; } = double.NaN;
    /// <summary>σ of the Ef predictor on the integer formula (eV/atom); NaN where the model has no uncertainty.</summary>
    public double EfSigma { get; init; } = double.NaN;
    /// <summary>Domain score of the Tc predictor on the integer formula (NaN where the model has none).</summary>
    public double TcDomain { get; init; } = double.NaN;
    /// <summary>Domain score of the Ef predictor on the integer formula (NaN where the model has none).</summary>
    public double EfDomain { get; init; } = double.NaN;
}

/// <summary>Per-base summary (reference §7.1): rates over the unique rows, ΔTc against the base's own prediction.</summary>
public sealed record BaseSummary(
    int BaseIndex,
    string Base,
    string Substitution,
    double BaseTc,
    double BaseEf,
    int Candidates,
    int Degenerate,
    int Unique,
    double UniqueRate,
    double ValidRate,
    double NeutralRateInValid,
    double ElectronegativityRateInValid,
    double EfNegativeRate,
    double AllPassRate,
    double BestTcRounded,
    double DeltaTcTop10,
    double DeltaTcTop30,
    double DeltaTcTop50,
    double Seconds)
{
    /// <summary>Unique all-pass rows whose reduced formula is not in the known-compositions list (0 when the run has no list).</summary>
    public int NovelAllPass { get; init; }
}
