namespace Kiago.Nets.Featurisers;

/// <summary>
/// SuperDiff's composition vector: the amounts of the 96 elements H…Cm (Z = 1..96) in the formula, not normalised
/// (YBa2Cu3O7 → Y 1, Ba 2, Cu 3, O 7). A denoiser takes these plus the timestep, and predicts one noise value per element.
/// </summary>
public static class DenoiserLayout
{
    /// <summary>Elements of the vector: Z = 1..96.</summary>
    public const int Elements = 96;

    /// <summary>Per-sample input: the 96 amounts, then the integer timestep t (0-based) as a float.</summary>
    public const int InputColumns = Elements + 1;
}
