"""Why is ElemNet's held-out MAE 0.165 eV/atom here and 0.05 in the paper? Checks on the current split
(train_elemnet.py: random 90/5/5 of formation_energy_oqmd.csv, seed 20250) using the shipped model's test predictions
(splits/elemnet_test.csv, pytorch_pred). Usage: /usr/bin/python3 training/elemnet_analysis.py [DATA_DIR]   (~20 s)"""
import collections
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402

data = sys.argv[1] if len(sys.argv) > 1 else kc.DEFAULT_DATA
el = kc.Elements(data)
idx = np.array(kc.ELEMNET_INDICES)
out = np.ones(118, bool)
out[idx] = False
rows = kc.read_csv(os.path.join(data, "formation_energy_oqmd.csv"))
keep = []
for r in rows:
    v = el.vector(r["formula"])
    if not v[out].any():
        keep.append((r["formula"], v, float(r["formation_energy_ev_per_atom"]), r["source"]))
y = np.array([k[2] for k in keep])
order = np.random.default_rng(20250).permutation(len(keep))
n = int(round(0.05 * len(keep)))
part = np.empty(len(keep), dtype=object)
part[order[:n]] = "valid"
part[order[n:2 * n]] = "test"
part[order[2 * n:]] = "train"
keys = [kc.composition_key(k[1]) for k in keep]
sets = [kc.element_set(k[1]) for k in keep]
print(f"rows {len(keep)}; distinct normalised compositions {len(set(keys))} "
      f"(rows sharing one with another row: {sum(c for c in collections.Counter(keys).values() if c > 1)})")
train_keys = {k for k, p in zip(keys, part) if p == "train"}
train_sets = collections.Counter(s for s, p in zip(sets, part) if p == "train")
test = [i for i in range(len(keep)) if part[i] == "test"]
print(f"test rows whose normalised composition is also in train: {sum(keys[i] in train_keys for i in test)} of {len(test)}")
print(f"test rows whose element set occurs in train: {np.mean([sets[i] in train_sets for i in test]):.3f}")
split = kc.read_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "splits", "elemnet_test.csv"))
pred = {r["formula"]: float(r["pytorch_pred"]) for r in split}
assert all(keep[i][0] in pred for i in test), "elemnet_test.csv is not this split"
err = np.array([abs(pred[keep[i][0]] - y[i]) for i in test])
print(f"shipped ElemNet test MAE {err.mean():.4f} (n {len(err)})")
for name, mask in [("element set seen in train", [sets[i] in train_sets for i in test]),
                   ("element set unseen", [sets[i] not in train_sets for i in test])]:
    m = np.array(mask)
    print(f"  {name}: n {m.sum()}, MAE {err[m].mean():.4f}")
for src in sorted({k[3] for k in keep}):
    m = np.array([keep[i][3] == src for i in test])
    print(f"  source {src}: n {m.sum()}, MAE {err[m].mean():.4f}, target mean {y[np.array(test)][m].mean():+.3f}, std {y[np.array(test)][m].std():.3f}")
nel = np.array([len(sets[i]) for i in test])
for k in sorted(set(nel)):
    m = nel == k
    print(f"  {k} elements: n {m.sum()}, MAE {err[m].mean():.4f}")
yt = y[np.array(test)]
for lo, hi in [(-9, -1), (-1, 0), (0, 0.5), (0.5, 1), (1, 9)]:
    m = (yt >= lo) & (yt < hi)
    print(f"  Ef in [{lo}, {hi}): n {m.sum()} ({m.mean():.3f}), MAE {err[m].mean():.4f}")
print(f"target std {y.std():.3f}; share of rows with Ef > 0: {(y > 0).mean():.3f}")
