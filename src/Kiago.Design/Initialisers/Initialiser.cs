using Kiago.Kernels.Composition;

namespace Kiago.Design.Initialisers;

/// <summary>Draws the initial θ [candidates × 118] for one base from one seeded stream.</summary>
public static class Initialiser
{
    const int E = CompositionSpec.Elements;

    /// <param name="baseFractions">the base's 118 atom amounts (normalised here)</param>
    /// <param name="allowed">the allowed-element mask M (fallback frequency table, substitution initialiser)</param>
    /// <param name="elementFrequencies">
    /// replacement-element weights for mutation (the Tc model's training-set frequencies); null → uniform over
    /// the allowed elements (documented fallback).
    /// </param>
    public static float[] Draw(InitialiserOptions options, ReadOnlySpan<double> baseFractions, ReadOnlySpan<float> allowed,
        ReadOnlySpan<double> elementFrequencies, int candidates, DesignRandom rng)
    {
        var theta = new float[candidates * E];
        switch (options)
        {
            case ReferenceInitialiser r:
                Reference(r, baseFractions, allowed, elementFrequencies, candidates, rng, theta);
                break;
            case RandomInitialiser:
                for (int i = 0; i < theta.Length; i++) theta[i] = (float)rng.NextDouble();
                break;
            case SubstitutionInitialiser:
                for (int b = 0; b < candidates; b++)
                    for (int e = 0; e < E; e++)
                        theta[b * E + e] = allowed[e] != 0f ? (float)rng.NextDouble() : 0f;
                break;
            default:
                throw new ArgumentException($"unknown initialiser {options.GetType().Name}");
        }
        return theta;
    }

    static void Reference(ReferenceInitialiser r, ReadOnlySpan<double> baseFractions, ReadOnlySpan<float> allowed,
        ReadOnlySpan<double> frequencies, int candidates, DesignRandom rng, float[] theta)
    {
        if (baseFractions.Length != E) throw new ArgumentException($"base has {baseFractions.Length} entries, expected {E}");
        double total = 0;
        foreach (double v in baseFractions) total += v;
        if (!(total > 0)) throw new ArgumentException("the base composition is empty");
        var cumulative = new double[E];
        double acc = 0;
        for (int e = 0; e < E; e++)
        {
            acc += frequencies.IsEmpty ? allowed[e] : frequencies[e];
            cumulative[e] = acc;
        }
        if (!(acc > 0)) throw new ArgumentException("element-frequency table is empty");
        var row = new double[E];
        var zeroed = new double[E];
        var moves = new List<(int To, double Amount)>();
        for (int b = 0; b < candidates; b++)
        {
            for (int e = 0; e < E; e++) row[e] = baseFractions[e] / total;
            if (r.MutateProbability >= 0)
            {
                // all selections are made on the original row; then the selected entries are zeroed and each move
                // writes zeroed[to] + amount, a later move to the same element overwriting an earlier one
                // (numpy fancy-index semantics of the reference)
                moves.Clear();
                Array.Copy(row, zeroed, E);
                for (int e = 0; e < E; e++)
                {
                    if (row[e] == 0) continue;
                    if (rng.NextDouble() < r.MutateProbability)
                    {
                        moves.Add((rng.NextFromCumulative(cumulative), row[e]));
                        zeroed[e] = 0;
                    }
                }
                Array.Copy(zeroed, row, E);
                foreach (var (to, amount) in moves) row[to] = zeroed[to] + amount;
            }
            if (r.PerturbProbability >= 0)
            {
                double sum = 0;
                for (int e = 0; e < E; e++)
                {
                    if (rng.NextDouble() < r.PerturbProbability) row[e] += rng.NextDouble() * r.PerturbMax;
                    sum += row[e];
                }
                if (sum > 0) for (int e = 0; e < E; e++) row[e] /= sum;
            }
            for (int e = 0; e < E; e++) theta[b * E + e] = (float)row[e];
        }
    }
}
