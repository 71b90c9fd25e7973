using System.Globalization;
using Kiago.Chemistry;
using Kiago.Chemistry.Hull;
using Kiago.Cli.IO;
using Kiago.Tests.Support;

namespace Kiago.Tests.Chemistry;

public class PhaseDiagramTests
{
    static HullEntry Entry(string formula, double ef) => new(Composition.Parse(formula), ef);

    [Fact]
    public void Binary_hull_by_hand()
    {
        // A–B line with FeO at −1 eV/atom (x_O = 1/2) and Fe2O3 at −0.9 (x_O = 3/5), both stable only if on the hull:
        // the segment Fe(0) → FeO(−1) gives, at x_O = 1/4 (Fe3O), −1 · (1/4)/(1/2) = −0.5.
        // The segment FeO(−1) → O(0) at x_O = 3/5 gives −1 · (1 − 3/5)/(1/2) = −0.8 > −0.9, so Fe2O3 is on the hull.
        var pd = new PhaseDiagram([Entry("FeO", -1.0), Entry("Fe2O3", -0.9)]);
        Assert.Equal(-0.5, pd.HullEnergy(Composition.Parse("Fe3O")), 12);
        Assert.Equal(-0.9, pd.HullEnergy(Composition.Parse("Fe2O3")), 12);
        // Fe3O at −0.2: 0.3 above the hull; at −0.7 it would be below the hull, and KIAGO's appended target makes that 0.
        Assert.Equal(0.3, pd.EnergyAboveHull(Composition.Parse("Fe3O"), -0.2), 12);
        Assert.Equal(0.0, pd.EnergyAboveHull(Composition.Parse("Fe3O"), -0.7));
        // Decomposition of Fe3O: half Fe, half FeO by atoms (x_O = 1/4 = ½ · 0 + ½ · ½).
        var phases = pd.Decomposition(Composition.Parse("Fe3O")).OrderBy(p => p.Entry.Composition.Count).ToArray();
        Assert.Equal(2, phases.Length);
        Assert.Equal(0.5, phases[0].AtomFraction, 12);
        Assert.Equal(0.5, phases[1].AtomFraction, 12);
    }

    [Fact]
    public void Elements_are_zero_and_positive_entries_never_lower_the_hull()
    {
        // Elemental reference entries are forced to 0 (KIAGO), and a compound above 0 cannot be below the Fe–O tie line.
        var pd = new PhaseDiagram([Entry("Fe", -3.0), Entry("FeO", 0.4)]);
        Assert.Equal(0.0, pd.HullEnergy(Composition.Parse("FeO")), 12);
        Assert.Equal(0.0, pd.HullEnergy(Composition.Parse("Fe")));
    }

    [Fact]
    public void Ternary_point_inside_a_triangle()
    {
        // Stable YCuO3? No: only Y2O3 (−1.5 at x = (0.4, 0, 0.6)) and CuO (−0.8 at (0, 0.5, 0.5)). The point Y2Cu1O4
        // (x = 2/7, 1/7, 4/7) = (5/7)·Y2O3 + (2/7)·CuO: (5/7)(0.4, 0, 0.6) + (2/7)(0, 0.5, 0.5) = (2/7, 1/7, 4/7).
        // Hull energy = (5/7)(−1.5) + (2/7)(−0.8) = −(7.5 + 1.6)/7 = −1.3.
        var pd = new PhaseDiagram([Entry("Y2O3", -1.5), Entry("CuO", -0.8)]);
        Assert.Equal(-1.3, pd.HullEnergy(Composition.Parse("Y2CuO4")), 12);
    }

    [Fact]
    public void Matches_pymatgen_phase_diagram_on_fixtures()
    {
        string Fixture(string name) => Path.Combine(SharedData.RepoRoot, "tests", "Kiago.Tests", "Chemistry", "Fixtures", name);
        static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        static List<string[]> Rows(string path)
        {
            using var reader = CsvReader.Open(path);
            return [.. reader.ReadAll().Skip(1).Select(r => r.Fields)];
        }
        var diagrams = Rows(Fixture("hull_entries.csv"))
            .GroupBy(r => r[0])
            .ToDictionary(g => g.Key, g => new PhaseDiagram(g.Select(r => Entry(r[1], D(r[2])))));
        var failures = new List<string>();
        var queries = Rows(Fixture("hull_queries.csv"));
        foreach (var q in queries)
        {
            var pd = diagrams[q[0]];
            var c = Composition.Parse(q[1]);
            double hull = pd.HullEnergy(c), above = pd.EnergyAboveHull(c, D(q[2]));
            if (Math.Abs(hull - D(q[3])) > 1e-6 || Math.Abs(above - D(q[4])) > 1e-6)
                failures.Add($"{q[0]} {q[1]}: hull {hull} vs pymatgen {q[3]}; e_above {above} vs {q[4]}");
        }
        Assert.True(queries.Count >= 70, $"only {queries.Count} queries");
        Assert.Contains(queries, q => q[0] == "octonary");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
