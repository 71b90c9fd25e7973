#!/usr/bin/env python3
"""KIAGO, C-ES, SD and SD+CG side by side (paper Tables 2 and 5-7) from run folders.

usage: tools/superdiff_table.py normal|substitution EXPERIMENT_DIR SD_DIR SDCG_DIR
       tools/superdiff_table.py guidance RUN_DIR...
EXPERIMENT_DIR is a (merged) `kiago experiment` folder (kiago/, ces/), or a `kiago baseline ces` folder (then the
KIAGO columns are left out); SD_DIR and SDCG_DIR are `kiago baseline superdiff` folders over the same base list
(without and with --guidance). `guidance` prints paper Table 4's row for each one-base `--decompose` run folder
(sampling.csv: the Tc change of each part of the steps; summary.csv: the screened figures). Prints Markdown.
"""
import csv, os, re, sys
from collections import defaultdict

# paper Table 2 (KIAGO, SD, SD w/ CG, C-ES ΔTc top-30, K; None = N/A) by base as written in the paper
PAPER_T2 = {
    "LaNiAsO": (104.39, -1.42, -0.47, 13.54), "SrFe1.88Ni0.12As2": (97.91, 26.76, 4.53, 21.88),
    "Sr4V2Fe2As2O6": (97.49, -13.77, -13.66, -5.45), "LaPt2B2C": (86.73, -5.01, -4.66, 6.90),
    "HgBa2Ca2Cu3O8": (17.07, -29.43, -1.18, -12.11), "CeBiS2O": (92.12, None, -0.31, 2.04),
    "Bi2Sr2CuO6": (129.63, 18.34, 26.76, 43.78), "TlSr2CaCu2O7": (76.32, 5.21, 12.42, 18.60),
}
# paper Tables 5 and 7 (success KIAGO, SD, SD w/ CG, C-ES; ΔTc top-30 KIAGO, SD, SD w/ CG, C-ES)
PAPER_T5 = {
    "CeFeAsF0.2O0.8": (1, 0, 0, 1), "LaFeAsO": (1, .01, 0, 1), "SrFe2As2": (1, .01, 0, 1), "Bi2CaSr2Cu2O8": (1, .23, .20, 1),
    "CeNiC2": (1, 0, 0, 1), "LaNiC2": (1, .01, .01, 1), "MgCoNi3": (1, 0, 0, 1), "RuSr2GdCu2O8": (1, .03, .03, 1),
    "RuSr2YCu2O8": (1, .03, .03, 1), "Y2Fe3Si5": (1, 0, 0, 1), "YIrSi": (1, 0, 0, 1),
}
PAPER_T7 = {
    "CeFeAsF0.2O0.8": (14.17, None, None, 9.96), "LaFeAsO": (33.88, 1.24, None, 31.10), "SrFe2As2": (31.54, None, None, 19.25),
    "Bi2CaSr2Cu2O8": (18.72, 0.15, -1.11, 6.10), "CeNiC2": (13.10, None, -0.02, 4.33), "LaNiC2": (10.53, None, None, 4.90),
    "MgCoNi3": (31.66, None, 0.13, 7.23), "RuSr2GdCu2O8": (-3.38, -0.23, -0.16, 5.64), "RuSr2YCu2O8": (45.96, -0.89, 1.53, 37.74),
    "Y2Fe3Si5": (5.57, None, None, 1.50), "YIrSi": (6.09, 3.42, None, 3.86),
}


def parse(formula):
    amounts = defaultdict(float)
    for symbol, amount in re.findall(r"([A-Z][a-z]?)([0-9.]*)", formula):
        amounts[symbol] += float(amount) if amount else 1.0
    return dict(amounts)


def key(formula):
    a = parse(formula)
    total = sum(a.values())
    return tuple(sorted((e, round(v / total, 6)) for e, v in a.items()))


def paper_row(table, base):
    k = key(base)
    for name, values in table.items():
        if key(name) == k:
            return values
    return None


def summaries(folder):
    with open(f"{folder}/summary.csv") as f:
        return {int(r["base_index"]): r for r in csv.DictReader(f)}


def success_rates(folder, bases):
    """The paper's Table-5 criterion (1 % relative) on unique formulas, per base index."""
    rows = defaultdict(list)
    with open(f"{folder}/candidates.csv") as f:
        for r in csv.DictReader(f):
            if r["unique"] == "true" and r["formula"]:
                rows[int(r["base_index"])].append(r["formula"])
    rates = {}
    for i, (base, substitution) in bases.items():
        target = re.match(r"[A-Z][a-z]?", substitution).group(0)
        b = parse(base)
        total = sum(b.values())
        keep = {e: v / total for e, v in b.items() if e != target}
        amount = b[target] / total
        ok = 0
        for formula in rows.get(i, []):
            x = parse(formula)
            s = sum(x.values())
            x = {e: v / s for e, v in x.items()}
            keeps = all(abs(x.get(e, 0) - v) <= 0.01 * v for e, v in keep.items())
            substituted = sum(v for e, v in x.items() if e not in keep)
            ok += keeps and abs(substituted - amount) <= 0.01 * amount
        rates[i] = ok / len(rows[i]) if rows.get(i) else float("nan")
    return rates


def number(value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "N/A"
    return "N/A" if v != v else f"{v:.2f}"


def paper(values):
    return " / ".join("N/A" if v is None else f"{v:.2f}" for v in values) if values else "–"


# paper Table 4 (denoise, ILVR, guide, sum, screening ratio) by guidance weight
PAPER_T4 = {0.0: (84.8, 37.4, None, 122.2, 0.13), 0.001: (79.2, 39.8, 3.2, 122.3, 0.08), 0.01: (77.1, 13.2, 33.8, 124.1, 0.11),
            0.1: (42.5, -197.1, 279.3, 124.7, 0.12), 1.0: (-63.5, -1409.6, 1611.0, 137.9, 0.00), 10.0: (-101.7, -3945.1, 4190.5, 143.7, 0.00)}


def guidance_table(runs):
    print("| w | denoise ΔTc (K) | ILVR ΔTc (K) | guide ΔTc (K) | sum (K) | screening ratio | mean top-30 Tc before screening (K) "
          "| unique all-pass | ΔTc top-30, screened (K) | paper: denoise / ILVR / guide / sum / ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for d in runs:
        with open(f"{d}/sampling.csv", newline="") as f:
            sampling = next(csv.DictReader(f))
        with open(f"{d}/summary.csv", newline="") as f:
            summary = next(csv.DictReader(f))
        rows.append((float(sampling["guidance_weight"]), sampling, summary))
    for w, a, b in sorted(rows, key=lambda r: r[0]):
        unique = int(b["unique"])
        passing = round(float(b["all_pass_rate"]) * unique)
        p = PAPER_T4.get(w)
        print(f"| {w:g}{' (SD)' if w == 0 else ''} | {float(a['denoise_delta_tc_K']):.2f} | {float(a['ilvr_delta_tc_K']):.2f} "
              f"| {float(a['guidance_delta_tc_K']):.2f} | {float(a['sum_delta_tc_K']):.2f} | {float(a['screening_ratio']):.2f} "
              f"| {float(a['mean_top30_tc_K']):.1f} | {passing} of {unique} | {number(float(b['delta_tc_top30']))} "
              f"| {' / '.join('–' if v is None else f'{v:g}' for v in p) if p else '–'} |")


def main():
    if sys.argv[1:2] == ["guidance"]:
        guidance_table(sys.argv[2:])
        return
    kind, experiment, sd, sdcg = sys.argv[1:5]
    if os.path.exists(f"{experiment}/kiago/summary.csv"):
        methods = {"KIAGO": f"{experiment}/kiago", "SD": sd, "SD+CG": sdcg, "C-ES": f"{experiment}/ces"}
    else:  # a baseline ces folder: no KIAGO columns
        methods = {"SD": sd, "SD+CG": sdcg, "C-ES": experiment}
    s = {m: summaries(d) for m, d in methods.items()}
    first = next(iter(methods))
    bases = {i: (r["base"], r["substitution"]) for i, r in s[first].items()}
    names = " / ".join(methods)
    if kind == "normal":
        print("| base | Tc(base) K | " + " | ".join(methods) + " | SD all-pass | SD+CG all-pass | paper KIAGO / SD / SD+CG / C-ES |")
        print("|---|---|" + "---|" * len(methods) + "---|---|---|")
        for i, (base, _) in sorted(bases.items()):
            cells = [number(s[m].get(i, {}).get("delta_tc_top30")) for m in methods]
            print(f"| {base} | {number(s[first][i]['base_tc'])} | " + " | ".join(cells) +
                  f" | {number(s['SD'].get(i, {}).get('all_pass_rate'))} | {number(s['SD+CG'].get(i, {}).get('all_pass_rate'))}"
                  f" | {paper(paper_row(PAPER_T2, base))} |")
    else:
        rates = {m: success_rates(d, bases) for m, d in methods.items()}
        print(f"| base | target | success {names} | neutral (in valid) {names} | ΔTc top-30 {names} | paper success KIAGO / SD / SD+CG / C-ES | paper ΔTc |")
        print("|---|---|---|---|---|---|---|")
        for i, (base, substitution) in sorted(bases.items()):
            success = " / ".join(number(rates[m].get(i)) for m in methods)
            neutral = " / ".join(number(s[m].get(i, {}).get("neutral_rate_in_valid")) for m in methods)
            delta = " / ".join(number(s[m].get(i, {}).get("delta_tc_top30")) for m in methods)
            print(f"| {base} | {substitution} | {success} | {neutral} | {delta} | {paper(paper_row(PAPER_T5, base))} | {paper(paper_row(PAPER_T7, base))} |")


if __name__ == "__main__":
    main()
