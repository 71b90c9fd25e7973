namespace Kiago.Kernels.Composition;

/// <summary>Distance in the integer loss: the published code squares it, the paper's eq. (10) takes |·|.</summary>
public enum IntegerDistance { Squared, Absolute }

/// <summary>
/// The per-run constants of the composition map, shared by all candidates of one base:
/// <c>x = c + (1 − Σc)·σ(σ(θ ⊙ m_top) ⊙ M)</c>, σ(v) = ReLU(v)/ΣReLU(v), and the integer loss over the N-set.
/// </summary>
public sealed record CompositionSpec
{
    public const int Elements = 118;

    /// <summary>M = allowed-element mask (1/0) over the 118 elements: ElemNet range ∩ allow/deny ∩ oxidation mask.</summary>
    public float[] Allowed { get; }

    /// <summary>The fixed part c (atom fractions, Σc &lt; 1).</summary>
    public float[] Fixed { get; }

    /// <summary>Σc in float32, as the reference computes it.</summary>
    public float FixedSum { get; }

    /// <summary>Candidate atom counts N for the integer loss, ascending and distinct (ties pick the smallest N).</summary>
    public int[] NSet { get; }

    public IntegerDistance Distance { get; }

    public CompositionSpec(ReadOnlySpan<float> allowed, ReadOnlySpan<float> fixedPart, IEnumerable<int> nSet,
        IntegerDistance distance = IntegerDistance.Squared)
    {
        if (allowed.Length != Elements) throw new ArgumentException($"allowed mask has {allowed.Length} entries, expected {Elements}", nameof(allowed));
        if (fixedPart.Length != Elements) throw new ArgumentException($"fixed part has {fixedPart.Length} entries, expected {Elements}", nameof(fixedPart));
        Allowed = allowed.ToArray();
        foreach (float m in Allowed)
            if (m != 0f && m != 1f) throw new ArgumentException("allowed mask entries must be 0 or 1", nameof(allowed));
        Fixed = fixedPart.ToArray();
        float sum = 0f;
        foreach (float c in Fixed)
        {
            if (!(c >= 0f)) throw new ArgumentException("fixed fractions must be >= 0", nameof(fixedPart));
            sum += c;
        }
        if (!(sum < 1f)) throw new ArgumentException($"fixed fractions sum to {sum}, must be < 1", nameof(fixedPart));
        FixedSum = sum;
        NSet = nSet.Distinct().Order().ToArray();
        if (NSet.Length == 0 || NSet[0] < 1) throw new ArgumentException("the N-set must be non-empty with N >= 1", nameof(nSet));
        Distance = distance;
    }
}
