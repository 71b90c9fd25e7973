using System.CommandLine;
using Kiago.Cli.Design;

namespace Kiago.Cli;

/// <summary>`kiago optimise`: the reference's Normal experiment (reference §6) for one or more bases.</summary>
internal static class OptimiseCommand
{
    public static Command Create() => DesignCommand.Create("optimise",
        "Optimise candidate compositions from base materials for high predicted Tc and low formation energy (KIAGO)", DesignPreset.Normal);
}
