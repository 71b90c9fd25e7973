#!/usr/bin/env python3
"""Table 1 across integer-loss arms: for each run directory (`kiago experiment normal --integerisation ...
[--integerisation-arm A]`), the mean Tc change from the stage-1 composition under the integer loss and under rounding
x*M, per max-atoms value, pooled over bases and per base.

    python3 tools/integerisation_arms.py reference=runs/table1-256 no-ef=runs/t1-no-ef no-mask=runs/t1-no-mask bare=runs/t1-bare

Reads DIR/integerisation.csv only (columns max_atoms, base_index, candidate, tc_stage1, tc_integer_loss, tc_rule_based).
"""
import csv
import os
import sys
from collections import defaultdict


def load(folder):
    rows = defaultdict(list)  # (M, base) -> [(d_integer, d_rule)]
    with open(os.path.join(folder, "integerisation.csv")) as f:
        for r in csv.DictReader(f):
            s1 = float(r["tc_stage1"])
            rows[(int(r["max_atoms"]), int(r["base_index"]))].append((float(r["tc_integer_loss"]) - s1, float(r["tc_rule_based"]) - s1))
    return rows


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def main(args):
    arms = [a.split("=", 1) for a in args]
    data = {name: load(folder) for name, folder in arms}
    ms = sorted({m for rows in data.values() for m, _ in rows})
    print("| max atoms | " + " | ".join(f"{n}: L_int / rule (K)" for n, _ in arms) + " |")
    print("|---|" + "---|" * len(arms))
    for m in ms:
        cells = []
        for name, _ in arms:
            pooled = [p for (mm, _), ps in data[name].items() if mm == m for p in ps]
            cells.append(f"{mean([p[0] for p in pooled]):.2f} / {mean([p[1] for p in pooled]):.2f} (n={len(pooled)})" if pooled else "–")
        print(f"| {m} | " + " | ".join(cells) + " |")
    print()
    bases = sorted({b for rows in data.values() for _, b in rows})
    for m in ms:
        print(f"M = {m}, per base, integer loss minus rounding (K): " + "; ".join(
            f"{name} " + " ".join(f"{mean([p[0] - p[1] for p in data[name].get((m, b), [])]):+.2f}" for b in bases) for name, _ in arms))


if __name__ == "__main__":
    main(sys.argv[1:])
