"""k-nearest-neighbour baseline for the ElemNet split (same seed and split as train_elemnet.py): how predictable is
Ef from the nearest training compositions? Usage: /usr/bin/python3 knn_baseline.py [DATA_DIR]   (~1 min on 2 cores)"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402

data = sys.argv[1] if len(sys.argv) > 1 else kc.DEFAULT_DATA
el = kc.Elements(data)
idx = np.array(kc.ELEMNET_INDICES)
out = np.ones(118, bool); out[idx] = False
rows = kc.read_csv(os.path.join(data, 'formation_energy_oqmd.csv'))
xs, ys = [], []
for r in rows:
    v = el.vector(r['formula'])
    if v[out].any(): continue
    xs.append(v[idx]); ys.append(float(r['formation_energy_ev_per_atom']))
X = np.array(xs, np.float32); y = np.array(ys)
rng = np.random.default_rng(20250); order = rng.permutation(len(y))
n = int(round(0.05 * len(y)))
va, te, tr = order[:n], order[n:2*n], order[2*n:]
Xt, yt = X[tr], y[tr]
def knn(q, k):
    preds = []
    for b in range(0, len(q), 500):
        Q = X[q[b:b+500]]
        # squared Euclidean distances in fraction space
        d = (Q**2).sum(1)[:, None] + (Xt**2).sum(1)[None, :] - 2 * Q @ Xt.T
        nn = np.argpartition(d, k, axis=1)[:, :k]
        preds.append(yt[nn].mean(1))
    return np.concatenate(preds)
for k in (1, 5):
    p = knn(te, k)
    print(f"{k}-NN test MAE {np.abs(p - y[te]).mean():.4f}", flush=True)
# same element set in train?
sets = {}
for i in tr: sets.setdefault(tuple(np.nonzero(X[i])[0]), []).append(i)
has = np.array([tuple(np.nonzero(X[i])[0]) in sets for i in te])
print("test rows whose element set occurs in train:", has.mean())
print("target std", y.std(), "test MAE of predicting the train mean", np.abs(y[te]-yt.mean()).mean())
