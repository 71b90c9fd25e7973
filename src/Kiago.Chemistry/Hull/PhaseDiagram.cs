namespace Kiago.Chemistry.Hull;

/// <summary>A reference compound: composition and formation energy in eV/atom.</summary>
public sealed record HullEntry(Composition Composition, double FormationEnergyPerAtom);

/// <summary>One phase of a hull decomposition: the entry and its share of the atoms.</summary>
public sealed record HullPhase(HullEntry Entry, double AtomFraction);

/// <summary>
/// Lower convex hull of formation energy over composition space (KIAGO's convex_hull_test.py, pymatgen's PhaseDiagram):
/// the hull energy at x is min Σ λ_i E_i over entries whose elements lie in x's chemical system, with λ ≥ 0 and
/// Σ λ_i x_i = x (atom fractions) — a small linear program per query. Every element is a terminal entry at 0 eV/atom,
/// and elemental reference entries are forced to 0 (as KIAGO does). Validated against pymatgen for 2–8 element systems.
/// </summary>
public sealed class PhaseDiagram
{
    readonly List<(HullEntry Entry, double[] Fractions, ulong ElementMask1, ulong ElementMask2)> entries = [];

    public PhaseDiagram(IEnumerable<HullEntry> references)
    {
        foreach (var e in references)
        {
            if (!double.IsFinite(e.FormationEnergyPerAtom))
                throw new ArgumentException($"formation energy of {e.Composition} is not finite", nameof(references));
            if (e.Composition.Count <= 1) continue; // elements are terminal entries at 0
            var (m1, m2) = Mask(e.Composition);
            entries.Add((e, e.Composition.ToFractionVector(), m1, m2));
        }
    }

    /// <summary>Energy (eV/atom) of the lower hull at <paramref name="composition"/>; ≤ 0.</summary>
    public double HullEnergy(Composition composition) => Solve(composition).Energy;

    /// <summary>The stable phases whose mix is the hull at <paramref name="composition"/> (elements included).</summary>
    public IReadOnlyList<HullPhase> Decomposition(Composition composition) => Solve(composition).Phases;

    /// <summary>
    /// KIAGO's e_above_hull: the target is appended to the entries before the hull is built, so the result is
    /// max(0, E − hull) in eV/atom. For the signed distance use <c>E − HullEnergy(composition)</c>.
    /// </summary>
    public double EnergyAboveHull(Composition composition, double formationEnergyPerAtom) =>
        Math.Max(0, formationEnergyPerAtom - HullEnergy(composition));

    (double Energy, IReadOnlyList<HullPhase> Phases) Solve(Composition composition)
    {
        var system = composition.Elements;
        if (system.Count == 1)
            return (0, [new(Terminal(system[0]), 1)]);
        var (m1, m2) = Mask(composition);
        var candidates = entries.Where(e => (e.ElementMask1 & ~m1) == 0 && (e.ElementMask2 & ~m2) == 0).ToList();
        int m = system.Count, n = m + candidates.Count;
        var a = new double[m, n];
        var c = new double[n];
        for (int i = 0; i < m; i++) a[i, i] = 1; // terminal element i at 0 eV/atom
        for (int j = 0; j < candidates.Count; j++)
        {
            for (int i = 0; i < m; i++) a[i, m + j] = candidates[j].Fractions[system[i].Index];
            c[m + j] = candidates[j].Entry.FormationEnergyPerAtom;
        }
        double total = composition.TotalAtoms;
        var b = composition.Amounts.Select(x => x / total).ToArray();
        var (value, lambda) = LinearProgram.Minimise(a, b, c)
            ?? throw new InvalidOperationException($"no hull point at {composition}"); // cannot happen: elements span the system
        var phases = new List<HullPhase>();
        for (int j = 0; j < n; j++)
            if (lambda[j] > 1e-12)
                phases.Add(new(j < m ? Terminal(system[j]) : candidates[j - m].Entry, lambda[j]));
        return (value, phases);
    }

    static HullEntry Terminal(Element element) =>
        new(Composition.FromAmounts([KeyValuePair.Create(element, 1.0)]), 0);

    static (ulong, ulong) Mask(Composition composition)
    {
        ulong low = 0, high = 0;
        foreach (var e in composition.Elements)
            if (e.Index < 64) low |= 1UL << e.Index; else high |= 1UL << (e.Index - 64);
        return (low, high);
    }
}
