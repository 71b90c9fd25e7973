#!/usr/bin/env python3
"""One-off generator: writes src/Kiago.Chemistry/ElementData.cs (plain C# facts) from ../shared/data/elements.csv.

The committed C# file is the source of truth at run time; ElementTableTests cross-checks it against the CSV.
Usage (from the repository root): /usr/bin/python3 tools/gen_elements.py
"""
import csv
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
rows = list(csv.DictReader(open(os.path.join(root, "..", "shared", "data", "elements.csv"), encoding="utf-8")))


def en(v):
    return "null" if v == "" else repr(float(v))


def ints(v):
    return "[" + ", ".join(v.split()) + "]"


series = {"": "ElementSeries.None", "lanthanide": "ElementSeries.Lanthanide", "actinide": "ElementSeries.Actinide"}
block = {b: "Block." + b.upper() for b in "spdf"}

lines = []
for r in rows:
    lines.append(
        f'        new({r["Z"]}, "{r["symbol"]}", "{r["name"]}", {r["period"]}, {r["group"]}, {series[r["series"]]}, '
        f'{block[r["block"]]}, new({r["pt32_row"]}, {r["pt32_col"]}, {block[r["pt32_channel"]]}), {repr(float(r["atomic_mass"]))}, '
        f'{en(r["pauling_en_smact"])}, {en(r["pauling_en_pymatgen"])}, {"true" if r["is_metal_smact"] == "1" else "false"}, '
        f'{ints(r["ox_smact14"])}, {ints(r["ox_pymatgen_common"])}, {ints(r["ox_pymatgen_icsd"])}),'
    )

src = f"""// Element facts for Z = 1…118. Generated once by tools/gen_elements.py from shared/data/elements.csv and committed;
// ElementTableTests cross-checks every value against that CSV. Columns: Z, symbol, name, period, group, series, block,
// periodic-table-image position (row, column, channel), atomic mass, Pauling EN (SMACT 2.5.5), Pauling EN (pymatgen),
// in smact.metals, oxidation states: SMACT 2014 default, pymatgen common, pymatgen ICSD.
namespace Kiago.Chemistry;

public static partial class Elements
{{
    static readonly Element[] table =
    [
{chr(10).join(lines)}
    ];
}}
"""
open(os.path.join(root, "src", "Kiago.Chemistry", "ElementData.cs"), "w", encoding="utf-8").write(src)
print(f"wrote {len(rows)} elements")
