"""SuperCon composition vectors for the SuperDiff-style denoiser.

The vector has 96 entries: the amount of element Z = 1..96 (H ... Cm) in the formula, NOT normalised
(Y1Ba2Cu3O7 -> Y 1, Ba 2, Cu 3, O 7), as SuperDiff does it.

Rows are the Tc model's positives (training/train_tc.py): supercon.csv minus rows flagged O7_unverified,
one row per distinct normalised composition (the first formula of each, as train_tc.py keeps it), split by
element set with train_tc.py's seed (element_division, 5 % valid, 15 % test). We train on the Tc training
rows, report validation loss on the Tc validation rows and never touch the Tc test rows. The split is
checked against the committed training/splits/tc_valid.csv and tc_test.csv (positives).

Usage: /usr/bin/python3 training/superdiff/data.py   (prints the counts and the data file's SHA-256)
"""
import csv
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
sys.path.insert(0, TRAINING)
import kiago_common as kc  # noqa: E402

# the data are read in place, relative to the repository: <repo>/../shared/data
DATA_DIR = os.path.normpath(os.path.join(TRAINING, "..", "..", "shared", "data"))
SUPERCON = os.path.join(DATA_DIR, "supercon.csv")
SPLITS = os.path.join(TRAINING, "splits")
N_Z = 96
TC_SEED = 20250  # train_tc.py's default --seed, with which the committed split files were made


def amounts_vector(el, formula):
    """Formula -> 96-vector of amounts (float64). Raises ValueError if unparsable or an element has Z > 96."""
    amounts = el.parse(formula)
    v = np.zeros(N_Z, dtype=np.float64)
    for sym, a in amounts.items():
        z = el.index[sym] + 1
        if z > N_Z:
            raise ValueError(f"{formula!r}: element {sym} (Z {z}) beyond Cm")
        v[z - 1] = a
    if v.sum() <= 0:
        raise ValueError(f"{formula!r}: zero total amount")
    return v


def formula_of(el, v):
    """96-vector of amounts -> formula string (elements in Z order, amounts with up to 4 decimals)."""
    parts = []
    for i in np.nonzero(v)[0]:
        a = float(v[i])
        parts.append(el.symbols[i] + (f"{a:.4f}".rstrip("0").rstrip(".")))
    return "".join(parts)


def _split_positives(path):
    with open(path, newline="") as f:
        return {r["formula"] for r in csv.DictReader(f) if r["kind"] == "positive"}


def load(log=print, check_splits=True):
    """Returns dict with 'train' / 'valid' -> (formulas, float32 [N,96] amounts), plus counts and sha256."""
    el = kc.Elements(DATA_DIR)
    rows = kc.read_csv(SUPERCON)
    kept = [r for r in rows if "O7_unverified" not in r["flags"].split(";")]
    n_o7 = len(rows) - len(kept)
    # one row per distinct normalised composition, as train_tc.py (first formula kept)
    groups = {}
    for r in kept:
        k = kc.composition_key(el.vector(r["formula"]))
        if k not in groups:
            groups[k] = r["formula"]
    formulas = list(groups.values())
    sets = [kc.element_set(el.vector(f)) for f in formulas]
    split = kc.split_groups(sets, TC_SEED, 0.05, 0.15)
    if check_splits:
        for name in ("valid", "test"):
            ref = _split_positives(os.path.join(SPLITS, f"tc_{name}.csv"))
            mine = {f for f, s in zip(formulas, split) if s == name}
            if ref != mine:
                raise RuntimeError(f"reproduced Tc {name} split differs from splits/tc_{name}.csv: "
                                   f"{len(ref ^ mine)} formulas differ")
        log("Tc split reproduced: valid/test positives identical to training/splits/tc_valid.csv / tc_test.csv")
    out = {"sha256": kc.sha256(SUPERCON), "supercon_rows": len(rows), "o7_unverified_dropped": n_o7,
           "distinct_compositions": len(formulas)}
    dropped = {}
    for name in ("train", "valid"):
        fs, xs = [], []
        bad = []
        for f, s in zip(formulas, split):
            if s != name:
                continue
            try:
                xs.append(amounts_vector(el, f))
                fs.append(f)
            except ValueError as e:
                bad.append(str(e))
        dropped[name] = bad
        out[name] = (fs, np.stack(xs).astype(np.float32))
    out["dropped_beyond_cm_or_unparsable"] = {k: len(v) for k, v in dropped.items()}
    out["test_rows_excluded"] = int((split == "test").sum())
    log(f"supercon.csv sha256 {out['sha256']}")
    log(f"{len(rows)} rows, {n_o7} flagged O7_unverified dropped, {len(formulas)} distinct compositions; "
        f"split train {int((split == 'train').sum())} / valid {int((split == 'valid').sum())} / "
        f"test {out['test_rows_excluded']} (test never used)")
    for k, v in dropped.items():
        log(f"{k}: dropped {len(v)} rows (element beyond Z 96 or unparsable)" + (f", e.g. {v[:3]}" if v else ""))
    log(f"rows used: train {len(out['train'][0])}, valid {len(out['valid'][0])}")
    return out


if __name__ == "__main__":
    d = load()
    x = d["train"][1]
    tot = x.sum(1)
    print(f"train amounts: max entry {x.max():.4g}, total per formula median {np.median(tot):.4g}, "
          f"p99 {np.percentile(tot, 99):.4g}, max {tot.max():.4g}; mean nonzero elements {(x > 0).sum(1).mean():.2f}")
    print(f"overall std of entries {x.std():.4g}, mean {x.mean():.4g}")
