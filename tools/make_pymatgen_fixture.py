#!/usr/bin/env python3
"""Builds tests/Kiago.Tests/Chemistry/Fixtures/pymatgen_compositions.csv: for each input formula, our canonical
print (from `kiago parse`) and what pymatgen makes of the input, of our canonical print, and its reduced composition.
Tests compare against this committed file only; pymatgen is never needed at test or run time.

Usage (repository root, after `dotnet build src/Kiago.Cli`):  /usr/bin/python3 tools/make_pymatgen_fixture.py
Needs pymatgen (Debian: python3-pymatgen).
"""
import csv
import io
import os
import subprocess
import warnings

warnings.filterwarnings("ignore")
from pymatgen.core import Composition, Element  # noqa: E402

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = os.path.join(root, "..", "shared", "data")
out = os.path.join(root, "tests", "Kiago.Tests", "Chemistry", "Fixtures", "pymatgen_compositions.csv")

hand = [
    "Fe2O3", "Fe4O6", "NaCl", "YBa2Cu3O7", "Y1Ba2Cu3O6.95", "CH3COOH", "Fe2(SO4)3", "Ca(OH)2", "Mg3(PO4)2",
    "K4(Fe(CN)6)", "Ba2 (Cu O2) 2", "Fe 2 O 3", "LaH10", "H3S", "Mo99.962Co0.038", "Fe2e-3O3", "Fe1Co0O2",
    "Hg1Ba2Ca2Cu3O8.33", "Li0.333Fe0.667", "Og1H1", "B9C13Ca18Cu28Ba12", "[Ca(OH)2]3", "{Li0.5}2",
    "La1.85Sr0.15Cu1O4", "U0.5Pt3", "Nb3Sn", "MgB2", "C60K3",
]


def sample(name, every):
    with open(os.path.join(data, name), encoding="utf-8") as f:
        return [row["formula"] for i, row in enumerate(csv.DictReader(f)) if i % every == 0]


inputs = hand + sample("supercon.csv", 400) + sample("non_superconductors.csv", 2000) + sample("formation_energy_mp.csv", 5000)

kiago = os.path.join(root, "src", "Kiago.Cli", "bin", "Debug", "net10.0", "kiago.dll")
ours = subprocess.run(["dotnet", kiago, "parse", *inputs], check=True, capture_output=True, text=True).stdout
canonical = {r["formula"]: r["canonical"] for r in csv.DictReader(io.StringIO(ours))}


def amounts(c):
    items = sorted(c.items(), key=lambda kv: Element(str(kv[0])).Z)
    return ";".join(f"{el}:{amt!r}" for el, amt in items)


def pymatgen(formula):
    try:
        return amounts(Composition(formula))
    except Exception:  # pymatgen 2022 rejects [] and {} groups: recorded, not compared
        return "error"


os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["input", "canonical", "pymatgen_input", "pymatgen_canonical", "pymatgen_reduced"])
    for formula in inputs:
        c = canonical[formula]
        w.writerow([formula, c, pymatgen(formula), pymatgen(c), amounts(Composition(c).reduced_composition)])
print(f"wrote {len(inputs)} rows to {out}")
