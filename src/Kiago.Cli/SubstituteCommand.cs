using System.CommandLine;
using Kiago.Cli.Design;

namespace Kiago.Cli;

/// <summary>`kiago substitute --base LaFeAsO --target La`: element substitution (paper §3.5, reference §6 ES).</summary>
internal static class SubstituteCommand
{
    public static Command Create() => DesignCommand.Create("substitute",
        "Replace one element of a base by elements sharing its oxidation state; the rest stays fixed (KIAGO element substitution)",
        DesignPreset.Substitution);
}
