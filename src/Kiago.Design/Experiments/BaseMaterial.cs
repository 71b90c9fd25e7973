using Kiago.Chemistry;

namespace Kiago.Design.Experiments;

/// <summary>
/// What an element-substitution experiment replaces (reference §6): <see cref="Target"/> at <see cref="Amount"/>
/// atoms per formula unit is replaced by elements of <see cref="OxidationState"/>; <see cref="Remaining"/> stays fixed.
/// </summary>
public sealed record SubstitutionSpec(Element Target, int OxidationState, double Amount, Composition Remaining);

/// <summary>A base material of an experiment: its composition (amounts as written), an optional substitution spec
/// (from the reference JSON) and the reference's recorded predicted Tc, when the file has one.</summary>
public sealed record BaseMaterial(string Name, Composition Composition, SubstitutionSpec? Substitution = null, double? ReferenceTc = null)
{
    public static BaseMaterial FromFormula(string formula)
    {
        var composition = Composition.Parse(formula);
        return new BaseMaterial(composition.ToFormulaString(), composition);
    }
}
