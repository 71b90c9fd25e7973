namespace Kiago.Chemistry;

/// <summary>Orbital block (s, p, d, f); also the channel of the periodic-table image.</summary>
public enum Block { S, P, D, F }

/// <summary>Lanthanide/actinide marker; those elements carry group 3 in the table.</summary>
public enum ElementSeries { None, Lanthanide, Actinide }

/// <summary>Which oxidation-state set a screening uses.</summary>
public enum OxidationStateTable
{
    /// <summary>SMACT 2.5.5 default (`oxidation_states.txt`, the 2014 set): what published KIAGO screening used.</summary>
    Smact14,
    /// <summary>pymatgen `common_oxidation_states`.</summary>
    PymatgenCommon,
    /// <summary>pymatgen `icsd_oxidation_states`.</summary>
    PymatgenIcsd,
}

/// <summary>Position in the 4×7×32 periodic-table image: row 0–6, column 0–31, channel s/p/d/f.</summary>
public readonly record struct PeriodicTablePosition(int Row, int Column, Block Channel);

/// <summary>One chemical element. Instances are singletons from <see cref="Elements"/>; compare by reference or Z.</summary>
public sealed class Element
{
    internal Element(int z, string symbol, string name, int period, int group, ElementSeries series, Block block,
        PeriodicTablePosition tablePosition, double atomicMass, double? paulingSmact, double? paulingPymatgen,
        bool isSmactMetal, int[] oxSmact14, int[] oxPymatgenCommon, int[] oxPymatgenIcsd)
    {
        Z = z;
        Symbol = symbol;
        Name = name;
        Period = period;
        Group = group;
        Series = series;
        Block = block;
        TablePosition = tablePosition;
        AtomicMass = atomicMass;
        PaulingSmact = paulingSmact;
        PaulingPymatgen = paulingPymatgen;
        IsSmactMetal = isSmactMetal;
        OxidationStatesSmact14 = oxSmact14;
        OxidationStatesPymatgenCommon = oxPymatgenCommon;
        OxidationStatesPymatgenIcsd = oxPymatgenIcsd;
    }

    /// <summary>Atomic number, 1…118.</summary>
    public int Z { get; }
    /// <summary>Z − 1: the element's position on the 118-long composition axis.</summary>
    public int Index => Z - 1;
    public string Symbol { get; }
    public string Name { get; }
    public int Period { get; }
    /// <summary>Long-form group 1–18; lanthanides and actinides are 3 (see <see cref="Series"/>).</summary>
    public int Group { get; }
    public ElementSeries Series { get; }
    public Block Block { get; }
    public PeriodicTablePosition TablePosition { get; }
    public double AtomicMass { get; }
    /// <summary>Pauling electronegativity as SMACT 2.5.5 has it (what `pauling_test` uses); null where SMACT has none.</summary>
    public double? PaulingSmact { get; }
    /// <summary>Pauling electronegativity as pymatgen has it (`Element.X`); null where pymatgen has none.</summary>
    public double? PaulingPymatgen { get; }
    /// <summary>Member of `smact.metals` (2.5.5): drives the all-metal (alloy) shortcut of the screening.</summary>
    public bool IsSmactMetal { get; }
    public IReadOnlyList<int> OxidationStatesSmact14 { get; }
    public IReadOnlyList<int> OxidationStatesPymatgenCommon { get; }
    public IReadOnlyList<int> OxidationStatesPymatgenIcsd { get; }

    public IReadOnlyList<int> OxidationStates(OxidationStateTable table) => table switch
    {
        OxidationStateTable.Smact14 => OxidationStatesSmact14,
        OxidationStateTable.PymatgenCommon => OxidationStatesPymatgenCommon,
        OxidationStateTable.PymatgenIcsd => OxidationStatesPymatgenIcsd,
        _ => throw new ArgumentOutOfRangeException(nameof(table), table, "unknown oxidation-state table"),
    };

    public override string ToString() => Symbol;
}
