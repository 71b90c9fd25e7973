#!/usr/bin/env python3
"""Mean and spread over seeds of the Normal experiment's Table 2 (ΔTc top-30), from merged `kiago experiment normal` folders.

    python3 tools/seed_spread.py runs/normal-512-seed0 runs/normal-512-seed1 runs/normal-512-seed2

Reads each folder's tables.md (the first table: base, Tc(base), KIAGO ΔTc top-30, C-ES ΔTc top-30, KIAGO − C-ES,
all-pass rates, paper figures) and prints a Markdown table with mean ± sample standard deviation [min, max] per cell,
the number of seeds on which KIAGO is above C-ES, and per seed how many bases KIAGO wins. Standard library only.
"""
import statistics
import sys
from pathlib import Path


def first_table(path):
    rows, inside = [], False
    for line in Path(path, "tables.md").read_text().splitlines():
        if line.startswith("| base |"):
            inside = True
            continue
        if inside:
            if not line.startswith("|"):
                break
            if line.startswith("|---"):
                continue
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def number(text):
    try:
        return float(text)
    except ValueError:
        return None


def cell(values):
    v = [x for x in values if x is not None]
    if not v:
        return "N/A"
    if len(v) == 1:
        return f"{v[0]:.2f}"
    return f"{statistics.mean(v):.2f} ± {statistics.stdev(v):.2f} [{min(v):.2f}, {max(v):.2f}]"


def main(folders):
    tables = [first_table(f) for f in folders]
    bases = [r[0] for r in tables[0]]
    for f, t in zip(folders, tables):
        if [r[0] for r in t] != bases:
            sys.exit(f"{f}: its bases differ from {folders[0]}'s")
    n = len(folders)
    print(f"| base | KIAGO ΔTc top-30 | C-ES ΔTc top-30 | KIAGO − C-ES | KIAGO above C-ES | KIAGO all-pass | paper KIAGO / C-ES |")
    print("|---|---|---|---|---|---|---|")
    for i, base in enumerate(bases):
        k = [number(t[i][2]) for t in tables]
        c = [number(t[i][3]) for t in tables]
        d = [number(t[i][4]) for t in tables]
        a = [number(t[i][5]) for t in tables]
        wins = sum(1 for x in d if x is not None and x > 0)
        counted = sum(1 for x in d if x is not None)
        print(f"| {base} | {cell(k)} | {cell(c)} | {cell(d)} | {wins} of {counted} | {cell(a)} | {tables[0][i][7]} |")
    per_seed = [sum(1 for r in t if number(r[4]) is not None and number(r[4]) > 0) for t in tables]
    with_result = [sum(1 for r in t if number(r[4]) is not None) for t in tables]
    print()
    print("KIAGO above C-ES per seed: " + ", ".join(f"{Path(f).name}: {w} of {m}" for f, w, m in zip(folders, per_seed, with_result)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
