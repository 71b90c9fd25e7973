using Kiago.Nets.Weights;

namespace Kiago.Nets.Uncertainty;

/// <summary>
/// The content of a .kgu file (docs/weight-format.md, "Uncertainty files"): the ensemble members that sit beside a
/// flagship .kgw, how their outputs become μ and σ, the applicability-domain data, and a card. Bound to one flagship
/// file by that file's SHA-256.
/// </summary>
public sealed record UncertaintyData(
    string BaseSha256,
    IReadOnlyList<WeightModel> Members,
    UncertaintyHead Head,
    DomainData Domain,
    string CardJson);

/// <summary>
/// How the K+1 outputs m_0 (flagship), m_1 … m_K (members) become μ and σ:
/// μ = Σ_j w_j m_j; σ = SigmaScale · (mean_j |m_j − μ| + SigmaFloor + LevelWeight · |μ − LevelCenter|). The level
/// term lets σ grow with the predicted value's distance from the bulk of the data (where the errors are larger:
/// the tails of Ef, high Tc); 0 turns it off. All come from split-conformal calibration on the validation split
/// (<see cref="Calibration"/>); the 95 % half-width is Interval95Factor · σ.
/// </summary>
public sealed record UncertaintyHead(float[] MeanWeights, float SigmaScale, float SigmaFloor, float Interval95Factor,
    float LevelCenter = 0, float LevelWeight = 0)
{
    public int Outputs => MeanWeights.Length;

    public void Validate(string file)
    {
        if (MeanWeights.Length < 2)
            throw new WeightFileException(file, $"head: {MeanWeights.Length} mean weights; an ensemble needs the flagship and at least one member");
        if (MeanWeights.Any(w => !float.IsFinite(w)) || Math.Abs(MeanWeights.Sum() - 1) > 1e-4)
            throw new WeightFileException(file, $"head: mean weights must be finite and sum to 1 (they sum to {MeanWeights.Sum()})");
        if (!(SigmaScale > 0) || !float.IsFinite(SigmaScale) || !(SigmaFloor >= 0) || !float.IsFinite(SigmaFloor) ||
            !(Interval95Factor >= 1) || !float.IsFinite(Interval95Factor))
            throw new WeightFileException(file, $"head: sigma_scale {SigmaScale} (> 0), sigma_floor {SigmaFloor} (>= 0) and interval95_factor {Interval95Factor} (>= 1) out of range");
        if (!float.IsFinite(LevelCenter) || !(LevelWeight >= 0) || !float.IsFinite(LevelWeight))
            throw new WeightFileException(file, $"head: level_center {LevelCenter} must be finite and level_weight {LevelWeight} >= 0");
    }
}

/// <summary>
/// Training compositions in sparse form for the nearest-neighbour distance: row r holds elements
/// Elements[Offsets[r] .. Offsets[r+1]) (Z − 1) with atom fractions Fractions[same range]. ReferenceDistance is the
/// 95th percentile of the validation split's nearest-training distances (the domain score's unit).
/// </summary>
public sealed record DomainData(int[] Offsets, byte[] Elements, float[] Fractions, float ReferenceDistance)
{
    public int Rows => Offsets.Length - 1;

    public void Validate(string file)
    {
        if (Offsets.Length < 2 || Offsets[0] != 0 || Offsets[^1] != Elements.Length || Elements.Length != Fractions.Length)
            throw new WeightFileException(file, "domain: offsets, elements and fractions do not line up");
        for (int r = 0; r + 1 < Offsets.Length; r++)
            if (Offsets[r + 1] < Offsets[r]) throw new WeightFileException(file, $"domain: offsets decrease at row {r}");
        if (Elements.Any(e => e >= 118)) throw new WeightFileException(file, "domain: element index outside 0..117");
        if (!(ReferenceDistance > 0) || !float.IsFinite(ReferenceDistance))
            throw new WeightFileException(file, $"domain: reference_distance {ReferenceDistance} must be > 0");
    }
}
