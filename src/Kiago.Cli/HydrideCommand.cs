using System.CommandLine;
using Kiago.Cli.Design;

namespace Kiago.Cli;

/// <summary>`kiago hydride --base LaH10`: hydride design with H fixed at 0.4 (paper §3.6, reference §6 HSC).</summary>
internal static class HydrideCommand
{
    public static Command Create() => DesignCommand.Create("hydride",
        "Design hydrides: H fixed at ≥ 0.4, binary candidates (k = 2), N ≤ 14, hydride screening (KIAGO HSC)", DesignPreset.Hydride);
}
