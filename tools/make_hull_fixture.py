#!/usr/bin/env python3
"""Builds tests/Kiago.Tests/Chemistry/Fixtures/hull_{entries,queries}.csv: small random chemical systems of 2–8
elements (seeded), their entries (formula, formation energy eV/atom), and query compositions with pymatgen's
PhaseDiagram answers: hull energy per atom and KIAGO-style e_above_hull (target appended to the entries, as
convex_hull_test.py does). Elements are terminal entries at 0 eV/atom. Tests use only the committed CSVs.

Usage (repository root): /usr/bin/python3 tools/make_hull_fixture.py   (needs python3-pymatgen)
"""
import csv
import os
import random
import warnings

warnings.filterwarnings("ignore")
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram  # noqa: E402
from pymatgen.core import Composition  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fixtures = os.path.join(root, "tests", "Kiago.Tests", "Chemistry", "Fixtures")
rng = random.Random(20251126)

systems = [
    ("binary", ["Fe", "O"], 6), ("binary_hydride", ["La", "H"], 5), ("ternary", ["Y", "Cu", "O"], 14),
    ("quaternary", ["Ba", "Cu", "O", "Hg"], 25), ("quinary", ["Sr", "Ca", "Cu", "Bi", "O"], 35),
    ("octonary", ["B", "C", "N", "Ca", "Cu", "Ba", "Pt", "Sr"], 60),
]


def random_formula(elements):
    k = rng.randint(2, len(elements))
    chosen = rng.sample(elements, k)
    return "".join(f"{el}{rng.randint(1, 6)}" for el in chosen)


entry_rows, query_rows = [], []
for name, elements, count in systems:
    entries = [PDEntry(Composition(el), 0.0) for el in elements]
    formulas = set()
    while len(formulas) < count:
        formulas.add(random_formula(elements))
    for f in sorted(formulas):
        ef = round(rng.uniform(-2.0, 0.6), 4)
        c = Composition(f)
        entries.append(PDEntry(c, ef * c.num_atoms))
        entry_rows.append([name, f, repr(ef)])
    pd = PhaseDiagram(entries)
    queries = [random_formula(elements) for _ in range(12)] + [sorted(formulas)[0]]
    for q in queries:
        ef = round(rng.uniform(-2.0, 0.6), 4)
        c = Composition(q)
        hull = pd.get_hull_energy_per_atom(c)
        target = PDEntry(c, ef * c.num_atoms)
        e_above = PhaseDiagram(entries + [target]).get_e_above_hull(target)
        query_rows.append([name, q, repr(ef), repr(float(hull)), repr(float(e_above))])

with open(os.path.join(fixtures, "hull_entries.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["system", "formula", "formation_energy_ev_per_atom"])
    w.writerows(entry_rows)
with open(os.path.join(fixtures, "hull_queries.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["system", "formula", "formation_energy_ev_per_atom", "pymatgen_hull_energy", "pymatgen_e_above_hull"])
    w.writerows(query_rows)
print(f"{len(entry_rows)} entries, {len(query_rows)} queries")
