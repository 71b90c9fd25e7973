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
    string Reasons);

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
    double Seconds);
