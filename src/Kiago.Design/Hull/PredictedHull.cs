using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Design.Experiments;
using Kiago.Nets;

namespace Kiago.Design.Hull;

/// <summary>
/// Hulls from predicted formation energies (reference §9): every reference energy comes from one ElemNet, elements at
/// 0 eV/atom. Each reference composition is predicted once (cached by composition; new ones in one batched call per
/// <see cref="Prepare"/>), and one <see cref="PhaseDiagram"/> is built per chemical system (cached).
/// Shared by <c>kiago hull</c> and the e_above_hull column of <c>kiago optimise/substitute/hydride</c>.
/// </summary>
public sealed class PredictedHull(HullReferenceSet references, ICompositionModel ef)
{
    readonly Dictionary<Composition, double> energies = [];
    readonly Dictionary<string, (PhaseDiagram Diagram, int References)> diagrams = new(StringComparer.Ordinal);

    /// <summary>Reference compositions predicted so far.</summary>
    public int Predicted => energies.Count;

    /// <summary>Predicts, in one batched call, the references inside the queries' systems not predicted yet.</summary>
    public void Prepare(IEnumerable<Composition> queries)
    {
        var todo = new List<Composition>();
        var queued = new HashSet<Composition>();
        foreach (var system in queries.GroupBy(q => HullReferenceSet.SystemKey(q.Elements)))
        {
            if (diagrams.ContainsKey(system.Key)) continue;
            foreach (var c in references.Inside(system.First().Elements))
                if (!energies.ContainsKey(c) && queued.Add(c)) todo.Add(c);
        }
        var predicted = ModelPredictions.Predict(ef, todo);
        for (int i = 0; i < todo.Count; i++) energies[todo[i]] = predicted[i];
    }

    /// <summary>The phase diagram of <paramref name="query"/>'s chemical system and how many references it holds.</summary>
    public (PhaseDiagram Diagram, int References) For(Composition query)
    {
        var key = HullReferenceSet.SystemKey(query.Elements);
        if (diagrams.TryGetValue(key, out var cached)) return cached;
        Prepare([query]);
        var inside = references.Inside(query.Elements);
        var diagram = new PhaseDiagram(inside.Select(c => new HullEntry(c, energies[c])));
        return diagrams[key] = (diagram, inside.Count);
    }

    /// <summary>max(0, E − hull(x)) in eV/atom (KIAGO's get_e_above_hull, the target appended to the entries).</summary>
    public double EnergyAboveHull(Composition query, double formationEnergyPerAtom) =>
        For(query).Diagram.EnergyAboveHull(query, formationEnergyPerAtom);
}
