#!/usr/bin/env python3
"""Per-base diagnosis of a `kiago experiment` folder (docs/EXPERIMENTS.md, "Diagnosis"): why KIAGO wins or loses.

    python3 tools/experiment_diagnosis.py EXPERIMENT_DIR [EXPERIMENT_DIR ...]

Each folder holds kiago/ and ces/ (candidates.csv, summary.csv, traces.csv); several folders (e.g. one per base,
run with --only) are read in the order given. Per base, one markdown row:
  KIAGO and C-ES ΔTc top-30 and how many formulas each top-30 averages (< 30 when fewer pass every screen);
  KIAGO's unique formulas by the first screen they fail (invalid / not neutral / electronegativity / Ef ≥ 0);
  Tc lost to rounding: mean tc_rounded − tc_continuous over non-degenerate candidates, and over the 30 best by
  continuous Tc; the best and mean Tc of the trace at step 0, at the end of stage 1 and at the last step;
  the median atoms of the printed formulas (KIAGO, C-ES).
Standard library only.
"""
import csv
import os
import statistics
import sys


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def num(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def top30(summary_row, candidates):
    passing = sum(1 for r in candidates if r["unique"] == "true" and r["all_pass"] == "true")
    return num(summary_row["delta_tc_top30"]), min(30, passing)


def first_failure(r):
    if r["valid"] != "true":
        return "invalid"
    if r["neutral"] != "true":
        return "not neutral"
    if r["electronegativity"] != "true":
        return "electronegativity"
    if r["ef_negative"] != "true":
        return "Ef >= 0"
    return "pass"


def trace_points(trace):
    if not trace:
        return "n/a"
    first, last = trace[0], trace[-1]
    stage1 = [t for t in trace if t["stage"] == "1"]
    end1 = stage1[-1] if stage1 else first

    def show(t):
        return f"{num(t['best_tc']):.0f}/{num(t['mean_tc']):.0f}"

    return f"{show(first)} → {show(end1)} → {show(last)}"


def diagnose(folder):
    out = []
    kiago_summary = rows(os.path.join(folder, "kiago", "summary.csv"))
    ces_summary = {r["base"]: r for r in rows(os.path.join(folder, "ces", "summary.csv"))}
    kiago_rows = rows(os.path.join(folder, "kiago", "candidates.csv"))
    ces_rows = rows(os.path.join(folder, "ces", "candidates.csv"))
    traces = rows(os.path.join(folder, "kiago", "traces.csv"))
    for s in kiago_summary:
        base = s["base"]
        k = [r for r in kiago_rows if r["base"] == base]
        c = [r for r in ces_rows if r["base"] == base]
        t = [r for r in traces if r["base_index"] == s["base_index"]]
        k_delta, k_n = top30(s, k)
        cs = ces_summary.get(base)
        c_delta, c_n = top30(cs, c) if cs else (float("nan"), 0)
        unique = [r for r in k if r["unique"] == "true" and r["formula"]]
        fails = {}
        for r in unique:
            f = first_failure(r)
            fails[f] = fails.get(f, 0) + 1
        n = max(1, len(unique))
        screens = " / ".join(f"{100 * fails.get(key, 0) / n:.0f}" for key in ["invalid", "not neutral", "electronegativity", "Ef >= 0", "pass"])
        live = [r for r in k if r["degenerate"] != "true" and r["formula"]]
        loss_all = statistics.mean(num(r["tc_rounded"]) - num(r["tc_continuous"]) for r in live) if live else float("nan")
        best30 = sorted(live, key=lambda r: -num(r["tc_continuous"]))[:30]
        loss_top = statistics.mean(num(r["tc_rounded"]) - num(r["tc_continuous"]) for r in best30) if best30 else float("nan")
        atoms_k = statistics.median(num(r["formula_atoms"]) for r in unique) if unique else float("nan")
        atoms_c = statistics.median(num(r["formula_atoms"]) for r in c if r["unique"] == "true") if c else float("nan")
        out.append(
            f"| {base} | {num(s['base_tc']):.1f} | {k_delta:.2f} ({k_n}) | {c_delta:.2f} ({c_n}) | {k_delta - c_delta:+.2f} | "
            f"{screens} | {loss_all:+.2f} / {loss_top:+.2f} | {trace_points(t)} | {atoms_k:.0f} / {atoms_c:.0f} |")
    return out


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    print("| base | Tc(base) K | KIAGO ΔTc top-30 (n) | C-ES ΔTc top-30 (n) | KIAGO − C-ES | KIAGO unique: % invalid / not neutral / EN / Ef ≥ 0 / pass | "
          "rounding ΔTc, all / top-30 (K) | trace best/mean Tc: step 0 → end of stage 1 → last (K) | median atoms KIAGO / C-ES |")
    print("|---|---|---|---|---|---|---|---|---|")
    for folder in argv[1:]:
        for line in diagnose(folder):
            print(line)


if __name__ == "__main__":
    main(sys.argv)
