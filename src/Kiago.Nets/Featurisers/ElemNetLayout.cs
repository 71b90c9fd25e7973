namespace Kiago.Nets.Featurisers;

/// <summary>
/// ElemNet's 86 inputs: H…Pu in atomic-number order without He, Ne, Ar, Po, At, Rn, Fr, Ra (kiago-reference §4,
/// the published code's HEAD mask). Compositions with other elements lose them (see <see cref="Featuriser.DroppedElements"/>).
/// </summary>
public static class ElemNetLayout
{
    public const int InputCount = 86;

    /// <summary>Atomic numbers of the 86 inputs, in ElemNet's order.</summary>
    public static readonly IReadOnlyList<int> Elements = Enumerable.Range(1, 94)
        .Where(z => z is not (2 or 10 or 18 or 84 or 85 or 86 or 87 or 88)).ToArray();
}
