"""Train ElemNet (kiago-reference §4) on formation_energy_oqmd.csv.

Usage: nice -n 19 /usr/bin/python3 train_elemnet.py [--data ../../shared/data] [--budget-minutes 60]
Writes training/checkpoints/elemnet.pt (resumable), training/exports/elemnet.onnx + elemnet.card.json,
training/splits/elemnet_test.csv (the test split, for `kiago evaluate-model`)."""
import argparse
import csv
import datetime
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
import kiago_loop  # noqa: E402
from kiago_models import ElemNet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SANITY = ["NaCl", "MgO", "Al2O3", "Fe", "Cu", "O", "Si", "Y1Ba2Cu3O7", "MgB2", "Fe2O3"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=20250)
    ap.add_argument("--budget-minutes", type=float, default=60.0)
    ap.add_argument("--max-epochs", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--element-repeats", type=int, default=20,
                    help="pure-element rows (Ef = 0 by definition; OQMD file has none) repeated per epoch")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "elemnet.pt"))
    ap.add_argument("--exports", default=os.path.join(HERE, "exports"))
    ap.add_argument("--restart", action="store_true")
    ap.add_argument("--select", choices=["best", "last"], default="best",
                    help="export the best-validation epoch or the last epoch (KIAGO keeps the last)")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--splits", default=os.path.join(HERE, "splits"), help="where the test-split CSV is written")
    ap.add_argument("--state-out", default=None, help="also save the selected weights (fp32 state dict) here")
    ap.add_argument("--no-onnx", action="store_true", help="skip the ONNX export (export later with export_onnx.py)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = kiago_loop.pick_device(args.device)
    torch.manual_seed(args.seed)
    start = time.time()

    def log(msg):
        print(f"[{datetime.datetime.utcnow():%H:%M:%S}] {msg}", flush=True)

    el = kc.Elements(args.data)
    idx = np.array(kc.ELEMNET_INDICES)
    outside = np.ones(kc.N_ELEMENTS, dtype=bool)
    outside[idx] = False
    rows = kc.read_csv(os.path.join(args.data, "formation_energy_oqmd.csv"))
    formulas, xs, ys, dropped = [], [], [], 0
    for r in rows:
        v = el.vector(r["formula"])
        if v[outside].any():
            dropped += 1
            continue
        formulas.append(r["formula"])
        xs.append(v)
        ys.append(float(r["formation_energy_ev_per_atom"]))
    x118 = np.stack(xs).astype(np.float32)
    y = np.array(ys, dtype=np.float32)
    log(f"formation_energy_oqmd.csv: {len(rows)} rows, {dropped} dropped (element outside ElemNet's 86)")
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(y))
    n_valid = n_test = int(round(0.05 * len(y)))
    split = {"valid": order[:n_valid], "test": order[n_valid:n_valid + n_test], "train": order[n_valid + n_test:]}
    sizes = {k: int(len(v)) for k, v in split.items()}
    log(f"split sizes {sizes}")
    X = torch.from_numpy(x118[:, idx].copy())
    Y = torch.from_numpy(y)
    tr = torch.from_numpy(split["train"])
    pure = torch.eye(86).repeat(args.element_repeats, 1)

    def make_epoch(epoch):
        g = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        x = torch.cat([X[tr], pure])
        t = torch.cat([Y[tr], torch.zeros(len(pure))])
        perm = torch.randperm(len(x), generator=g)
        for b in range(0, len(perm), args.batch):
            i = perm[b:b + args.batch]
            if len(i) < 2:
                continue
            yield x[i], t[i, None]

    def predict(model, x):
        with torch.no_grad():
            return torch.cat([model(x[b:b + 4096].to(dev)).squeeze(1).cpu() for b in range(0, len(x), 4096)]).numpy().astype(np.float64)

    vi = torch.from_numpy(split["valid"])

    def valid_score(model):
        mae = float(np.abs(predict(model, X[vi]) - y[split["valid"]]).mean())
        return mae, {"valid_mae": round(mae, 4)}

    model = ElemNet()
    state = kiago_loop.train(model, make_epoch, valid_score, args, log, dev)
    log(f"training done: {state['epoch']} epochs, best epoch {state['best_epoch']}")
    ti = torch.from_numpy(split["test"])
    pt = predict(model, X[ti])
    test = kc.regression_metrics(pt, y[split["test"]])
    valid = kc.regression_metrics(predict(model, X[vi]), y[split["valid"]])
    sv = np.stack([el.vector(f) for f in SANITY]).astype(np.float32)[:, idx]
    sanity = dict(zip(SANITY, [round(float(v), 4) for v in predict(model, torch.from_numpy(sv))]))
    pure_pred = predict(model, torch.eye(86))
    log(f"test {test}\nsanity {sanity}\npure elements max |Ef| {np.abs(pure_pred).max():.4f}")

    os.makedirs(args.exports, exist_ok=True)
    onnx_path = os.path.join(args.exports, "elemnet.onnx")
    if args.state_out:
        kiago_loop.save_state(model, args.state_out)
    if not args.no_onnx:
        kiago_loop.export_onnx(model, torch.zeros(2, 86), onnx_path, "fractions")
    split_dir = args.splits
    os.makedirs(split_dir, exist_ok=True)
    tmp = os.path.join(split_dir, "elemnet_test.csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["formula", "formation_energy_ev_per_atom", "pytorch_pred"])
        for i, p in zip(split["test"], pt):
            w.writerow([formulas[i], f"{y[i]:.6g}", f"{p:.5f}"])
    os.replace(tmp, os.path.join(split_dir, "elemnet_test.csv"))
    files = ["formation_energy_oqmd.csv", "elements.csv"]
    card = {
        "name": "elemnet", "kind": "elemnet", "target": "formation enthalpy", "unit": "eV/atom",
        "input": {"name": "fractions", "shape": ["batch", 86],
                  "featuriser": "atom fractions of the 118-vector at indices {0} U {2..8} U {10..16} U {18..82} U {88..93} (ascending Z; kiago-reference §4)",
                  "indices_118": kc.ELEMNET_INDICES},
        "output": {"name": "output", "shape": ["batch", 1]},
        "architecture": "ElemNet 1024x4D-512x3D-256x3D-128x3D-64x2-32x1-1, ReLU, dropout 0.2/0.1/0.3/0.2 (training only)",
        "data_files": {f: {"sha256": kc.sha256(os.path.join(args.data, f))} for f in files},
        "data_policy": {"rows": len(rows), "dropped_outside_86": dropped,
                        "mp": "formation_energy_mp.csv not used: different DFT reference/corrections than OQMD and structure-level duplicates; the held-out split is OQMD",
                        "pure_elements": f"86 unary rows with Ef = 0 (true by definition; the OQMD file has no unaries) added to every training epoch x{args.element_repeats}"},
        "split": {"method": "random permutation of rows with numpy default_rng(seed): first 5% valid, next 5% test, rest train",
                  "seed": args.seed, "sizes": sizes},
        "training": {"loss": "L1 on eV/atom", "optimiser": "Adam", "lr": args.lr, "schedule": "cosine to 0 over min(max_epochs, wall-clock budget)",
                     "batch": args.batch, "max_epochs": args.max_epochs, "budget_minutes": args.budget_minutes,
                     "epochs": state["epoch"], "best_epoch": state["best_epoch"], "selection": "best valid MAE" if args.select == "best" else "last epoch",
                     "train_seconds": round(state["train_seconds"]), "threads": args.threads, "device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
                     "torch": torch.__version__, "finished_utc": f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}",
                     "history": state["history"]},
        "metrics": {"test": test, "valid": valid, "pure_elements_max_abs": float(np.abs(pure_pred).max())},
        "sanity_pytorch": sanity,
        "element_frequencies": kc.element_frequencies(x118[split["train"]]),
        "element_frequencies_rows": sizes["train"],
        "element_frequencies_note": "fraction of OQMD training rows containing each element, Z = 1..118",
        "onnx": None if args.no_onnx else {"file": "elemnet.onnx", "sha256": kc.sha256(onnx_path), "opset": 13},
    }
    kiago_loop.write_json(os.path.join(args.exports, "elemnet.card.json"), card)
    log(f"wrote {args.exports} (ONNX {'skipped' if args.no_onnx else onnx_path}) and card; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
