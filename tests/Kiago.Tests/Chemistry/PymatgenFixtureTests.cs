using System.Globalization;
using Kiago.Chemistry;
using Kiago.Cli.IO;
using Kiago.Tests.Support;

namespace Kiago.Tests.Chemistry;

/// <summary>
/// Our parser, canonical print and reduction against pymatgen, via the committed fixture made by
/// tools/make_pymatgen_fixture.py (pymatgen is not needed here). "error" marks input pymatgen 2022 rejects ([] {}).
/// </summary>
public class PymatgenFixtureTests
{
    static Composition FromPymatgen(string amounts) => Composition.FromAmounts(amounts.Split(';').Select(part =>
    {
        var kv = part.Split(':');
        return KeyValuePair.Create(Elements.Get(kv[0]), double.Parse(kv[1], CultureInfo.InvariantCulture));
    }));

    [Fact]
    public void Ours_agrees_with_pymatgen_on_every_fixture_row()
    {
        var path = Path.Combine(SharedData.RepoRoot, "tests", "Kiago.Tests", "Chemistry", "Fixtures", "pymatgen_compositions.csv");
        using var reader = CsvReader.Open(path);
        var header = CsvHeader.Read(reader, path);
        int input = header.Require("input"), canonical = header.Require("canonical"), pmInput = header.Require("pymatgen_input"),
            pmCanonical = header.Require("pymatgen_canonical"), pmReduced = header.Require("pymatgen_reduced");
        var failures = new List<string>();
        int rows = 0;
        foreach (var record in reader.ReadAll())
        {
            rows++;
            var f = record.Fields;
            var ours = Composition.Parse(f[input]);
            void Check(bool ok, string what)
            {
                if (!ok) failures.Add($"line {record.Line} \"{f[input]}\": {what}");
            }
            Check(ours.ToCanonicalString() == f[canonical], $"canonical print {ours.ToCanonicalString()} ≠ fixture {f[canonical]}");
            if (f[pmInput] != "error")
                Check(ours.AlmostEquals(FromPymatgen(f[pmInput])), $"pymatgen parses the input as {f[pmInput]}, we as {ours}");
            Check(ours.AlmostEquals(FromPymatgen(f[pmCanonical])), $"pymatgen parses our canonical print as {f[pmCanonical]}");
            Check(ours.Reduce().AlmostEquals(FromPymatgen(f[pmReduced])), $"pymatgen reduces to {f[pmReduced]}, we to {ours.Reduce()}");
        }
        Assert.True(rows >= 100, $"only {rows} fixture rows");
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }
}
