#!/usr/bin/env python3
"""Trust figures of one or more `kiago optimise` run folders, side by side (docs/OPTIMISER.md's κ table).

    python3 tools/trust_table.py LABEL=RUN_DIR [LABEL=RUN_DIR ...]
    python3 tools/trust_table.py --per-base LABEL=RUN_DIR [LABEL=RUN_DIR ...]

--per-base: one row per base of a multi-base run (docs/EXPERIMENTS.md's practical table): novel all-pass formulas,
the mean σ_Tc of the base's top 30 unique formulas by Tc, and ΔTc top-30 from summary.csv, for each run side by side.

Per run: the top 30 unique formulas by predicted Tc on the integer formula (tc_rounded): their mean σ_Tc, mean σ_Ef,
mean Tc, mean Tc domain score, mean L1 distance to the nearest known compound, how many are known; the best Tc;
unique / all-pass / novel all-pass counts; the mean σ_Tc of the all-pass formulas; wall time from manifest.json.
Standard library only, so it runs on any python3.
"""
import csv
import json
import os
import sys


def number(text):
    try:
        return float(text)
    except ValueError:
        return float("nan")


def mean(values):
    values = [v for v in values if v == v]
    return sum(values) / len(values) if values else float("nan")


def figures(run):
    with open(os.path.join(run, "candidates.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["formula"]]
    unique = [r for r in rows if r["unique"] == "true"]
    top = sorted(unique, key=lambda r: -number(r["tc_rounded"]))[:30]
    passing = [r for r in unique if r["all_pass"] == "true"]
    with open(os.path.join(run, "manifest.json")) as f:
        manifest = json.load(f)
    wall = manifest.get("timings", {}).get("total_seconds", float("nan"))
    return [
        ("mean σ_Tc of the top 30 unique formulas by Tc (K)", f"{mean(number(r['tc_sigma_K']) for r in top):.1f}"),
        ("mean σ_Ef of those 30 (eV/atom)", f"{mean(number(r['ef_sigma_eV_per_atom']) for r in top):.3f}"),
        ("mean predicted Tc of those 30 (K)", f"{mean(number(r['tc_rounded']) for r in top):.1f}"),
        ("best predicted Tc (K)", f"{max(number(r['tc_rounded']) for r in unique):.1f}"),
        ("mean Tc domain score of the top 30", f"{mean(number(r['tc_domain']) for r in top):.2f}"),
        ("mean L1 distance of the top 30 to the nearest known compound", f"{mean(number(r['nearest_known_distance']) for r in top):.2f}"),
        ("known compounds among the top 30", str(sum(r["known"] == "true" for r in top))),
        ("unique / all-pass / novel all-pass", f"{len(unique)} / {len(passing)} / {sum(r['known'] == 'false' for r in passing)}"),
        ("mean σ_Tc of the all-pass formulas (K)", f"{mean(number(r['tc_sigma_K']) for r in passing):.1f}"),
        ("mean predicted Tc of the all-pass formulas (K)", f"{mean(number(r['tc_rounded']) for r in passing):.1f}"),
        ("wall time (s, manifest timings.total_seconds)", f"{wall:.1f}"),
    ]


def per_base(run):
    """{base index: (base, novel all-pass, mean σ_Tc of the top 30, ΔTc top-30)} of one run."""
    with open(os.path.join(run, "candidates.csv"), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["formula"]]
    with open(os.path.join(run, "summary.csv"), newline="") as f:
        summary = {r["base_index"]: r for r in csv.DictReader(f)}
    out = {}
    for index, s in summary.items():
        unique = [r for r in rows if r["base_index"] == index and r["unique"] == "true"]
        top = sorted(unique, key=lambda r: -number(r["tc_rounded"]))[:30]
        out[index] = (s["base"], s["novel_all_pass"], mean(number(r["tc_sigma_K"]) for r in top), number(s["delta_tc_top30"]))
    return out


def main(argv):
    if len(argv) >= 2 and argv[1] == "--per-base":
        runs = [a.rsplit("=", 1) for a in argv[2:]]
        if not runs or any(len(r) != 2 for r in runs):
            sys.exit(__doc__)
        tables = [per_base(path) for _, path in runs]
        labels = " / ".join(label for label, _ in runs)
        print(f"| base | novel all-pass {labels} | mean σ_Tc of the top 30 (K) {labels} | ΔTc top-30 (K) {labels} |")
        print("|---|---|---|---|")
        for index in sorted(tables[0], key=int):
            cells = [t.get(index) for t in tables]
            print(f"| {cells[0][0]} | " + " / ".join(c[1] if c else "–" for c in cells) + " | "
                  + " / ".join(f"{c[2]:.1f}" if c else "–" for c in cells) + " | "
                  + " / ".join(f"{c[3]:.2f}" if c else "–" for c in cells) + " |")
        return
    if len(argv) < 2 or any("=" not in a for a in argv[1:]):
        sys.exit(__doc__)
    runs = [a.rsplit("=", 1) for a in argv[1:]]  # labels may hold "=" (e.g. "κ = 1")
    table = [figures(path) for _, path in runs]
    print("| | " + " | ".join(label for label, _ in runs) + " |")
    print("|---|" + "---|" * len(runs))
    for i, (name, _) in enumerate(table[0]):
        print(f"| {name} | " + " | ".join(t[i][1] for t in table) + " |")


if __name__ == "__main__":
    main(sys.argv)
