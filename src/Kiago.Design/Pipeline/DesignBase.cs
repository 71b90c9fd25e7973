using Kiago.Chemistry;
using Kiago.Design.Constraints;

namespace Kiago.Design.Pipeline;

/// <summary>One starting material: its name as the user wrote it, the composition, and an optional substitution.</summary>
public sealed record DesignBase(string Name, Composition Composition, SubstitutionTarget? Substitution = null);
