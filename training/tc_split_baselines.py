"""Tc: how much of the error is the split? 1-NN / 5-NN (mean Tc of the nearest training positives in L1 fraction space)
on the test positives of train_tc.py's element-division split and of a random split of the same positives (same
seed, same 5/15/80 proportions, rows instead of element sets). Usage: /usr/bin/python3 training/tc_split_baselines.py"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
import train_tc  # noqa: E402

el = kc.Elements(kc.DEFAULT_DATA)
pos, _, _ = train_tc.load(kc.DEFAULT_DATA, el, lambda m: None)
X = np.stack([p[1] for p in pos]).astype(np.float32)
y = np.array([p[2] for p in pos])
element = kc.split_groups([kc.element_set(p[1]) for p in pos], 20250, 0.05, 0.15)
order = np.random.default_rng(20250).permutation(len(pos))
random = np.empty(len(pos), dtype=object)
nv, nt = int(round(0.05 * len(pos))), int(round(0.15 * len(pos)))
random[order[:nv]] = "valid"
random[order[nv:nv + nt]] = "test"
random[order[nv + nt:]] = "train"


def knn(train, test, k):
    Xt, yt = X[train], y[train]
    out = []
    for b in range(0, len(test), 16):
        q = X[test[b:b + 16]]
        d = np.abs(q[:, None, :] - Xt[None, :, :]).sum(2)
        nn = np.argpartition(d, k, axis=1)[:, :k]
        out.append(yt[nn].mean(1))
    return np.concatenate(out)


for name, split in [("element division (train_tc.py)", element), ("random rows", random)]:
    tr, te = np.nonzero(split == "train")[0], np.nonzero(split == "test")[0]
    res = {k: np.abs(knn(tr, te, k) - y[te]).mean() for k in (1, 5)}
    print(f"{name}: test positives {len(te)}, 1-NN MAE {res[1]:.3f} K, 5-NN MAE {res[5]:.3f} K", flush=True)
