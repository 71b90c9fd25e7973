"""Train the Tc ResNet18 (kiago-reference §3) on supercon.csv positives and non_superconductors.csv negatives.

Usage: nice -n 19 /usr/bin/python3 train_tc.py [--data ../../shared/data] [--budget-minutes 60]
Writes training/checkpoints/tc.pt (resumable), training/exports/tc-resnet18.onnx + tc-resnet18.card.json,
training/splits/tc_test.csv (the test split, for `kiago evaluate-model`)."""
import argparse
import collections
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
from kiago_models import TcResNet18  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SANITY = ["Y1Ba2Cu3O7", "MgB2", "NaCl", "Nb3Sn", "Hg1Ba2Ca2Cu3O8", "La1.85Sr0.15Cu1O4", "Si", "Fe2O3"]


def load(data_dir, el, log):
    pos_rows = kc.read_csv(os.path.join(data_dir, "supercon.csv"))
    kept = [r for r in pos_rows if "O7_unverified" not in r["flags"].split(";")]
    log(f"supercon.csv: {len(pos_rows)} rows, {len(pos_rows) - len(kept)} flagged O7_unverified dropped")
    # average Tc over identical normalised compositions (reference §3.2 step 8)
    acc = collections.OrderedDict()
    for r in kept:
        v = el.vector(r["formula"])
        k = kc.composition_key(v)
        if k not in acc:
            acc[k] = [r["formula"], v, [], r["family"]]
        acc[k][2].append(float(r["tc_kelvin"]))
    pos = [(f, v, float(np.mean(t)), fam) for f, v, t, fam in acc.values()]
    pos_sets = {kc.element_set(v) for _, v, _, _ in pos}
    pos_keys = set(acc.keys())
    neg_rows = kc.read_csv(os.path.join(data_dir, "non_superconductors.csv"))
    neg, dropped_set, dropped_comp = [], 0, 0
    for r in neg_rows:
        v = el.vector(r["formula"])
        if kc.composition_key(v) in pos_keys:
            dropped_comp += 1
        elif kc.element_set(v) in pos_sets:
            dropped_set += 1  # reference §3.2 COD step 4: negatives whose element set occurs in SuperCon are removed
        else:
            neg.append((r["formula"], v, 0.0, r["source"]))
    log(f"positives: {len(pos)} distinct compositions; negatives: {len(neg)} kept of {len(neg_rows)} "
        f"({dropped_set} share an element set with a positive, {dropped_comp} share a composition)")
    return pos, neg, {"positives_distinct": len(pos), "negatives_kept": len(neg),
                      "negatives_dropped_element_set_in_supercon": dropped_set,
                      "negatives_dropped_same_composition": dropped_comp,
                      "supercon_rows": len(pos_rows), "supercon_o7_unverified_dropped": len(pos_rows) - len(kept)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=20250)
    ap.add_argument("--budget-minutes", type=float, default=60.0)
    ap.add_argument("--max-epochs", type=int, default=250)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "tc.pt"))
    ap.add_argument("--exports", default=os.path.join(HERE, "exports"))
    ap.add_argument("--restart", action="store_true")
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
    pos, neg, counts = load(args.data, el, log)
    # element_division split: by element set, separately for positives and negatives (sets are disjoint)
    pos_split = kc.split_groups([kc.element_set(v) for _, v, _, _ in pos], args.seed, 0.05, 0.15)
    neg_split = kc.split_groups([kc.element_set(v) for _, v, _, _ in neg], args.seed + 1, 0.05, 0.15)

    def arrays(rows, split, name):
        idx = [i for i, s in enumerate(split) if s == name]
        return ([rows[i][0] for i in idx], np.stack([rows[i][1] for i in idx]).astype(np.float32),
                np.array([rows[i][2] for i in idx], dtype=np.float32), [rows[i][3] for i in idx])

    P = {s: arrays(pos, pos_split, s) for s in ("train", "valid", "test")}
    N = {s: arrays(neg, neg_split, s) for s in ("train", "valid", "test")}
    sizes = {s: {"positives": len(P[s][0]), "negatives": len(N[s][0])} for s in P}
    r = len(N["train"][0]) // len(P["train"][0])
    n_neg_epoch = int(round(len(N["train"][0]) / max(r, 1)))
    log(f"split sizes {sizes}; balancing r = {r}; per epoch: all {len(P['train'][0])} train positives + "
        f"{n_neg_epoch} sampled negatives")
    atom_map = torch.from_numpy(el.atom_map.reshape(kc.N_ELEMENTS, -1))

    def image(x):
        return (x @ atom_map).reshape(-1, *kc.IMAGE_SHAPE)

    xp, yp = torch.from_numpy(P["train"][1]), torch.from_numpy(P["train"][2])
    xn = torch.from_numpy(N["train"][1])

    def make_epoch(epoch):
        g = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        negs = torch.randperm(len(xn), generator=g)[:n_neg_epoch]
        x = torch.cat([xp, xn[negs]])
        y = torch.cat([yp, torch.zeros(len(negs))])
        order = torch.randperm(len(x), generator=g)
        for b in range(0, len(order), args.batch):
            i = order[b:b + args.batch]
            if len(i) < 2:
                continue
            yield image(x[i]), y[i, None]

    def predict(model, x):
        out = []
        with torch.no_grad():
            for b in range(0, len(x), 2048):
                out.append(model(image(torch.from_numpy(x[b:b + 2048])).to(dev)).squeeze(1).cpu())
        return torch.cat(out).numpy().astype(np.float64)

    def valid_score(model):
        pp, pn = predict(model, P["valid"][1]), predict(model, N["valid"][1])
        mae_p = float(np.abs(pp - P["valid"][2]).mean())
        mae_n = float(np.abs(pn).mean())
        return 0.5 * (mae_p + mae_n), {"valid_mae_pos": round(mae_p, 3), "valid_mae_neg": round(mae_n, 3),
                                       "valid_neg_gt10": round(float((pn > 10).mean()), 4)}

    model = TcResNet18()
    state = kiago_loop.train(model, make_epoch, valid_score, args, log, dev)
    log(f"training done: {state['epoch']} epochs, best epoch {state['best_epoch']}")

    pp, pn = predict(model, P["test"][1]), predict(model, N["test"][1])
    test = kc.regression_metrics(pp, P["test"][2])
    test["neg_n"] = len(pn)
    test["neg_rate_gt_10K"] = float((pn > 10).mean())
    test["neg_mae"] = float(np.abs(pn).mean())
    fams = {}
    for fam in sorted(set(P["test"][3])):
        m = np.array([f == fam for f in P["test"][3]])
        fams[fam] = kc.regression_metrics(pp[m], P["test"][2][m])
    test["by_family"] = fams
    vp = predict(model, P["valid"][1])
    valid = kc.regression_metrics(vp, P["valid"][2])
    valid["neg_rate_gt_10K"] = float((predict(model, N["valid"][1]) > 10).mean())
    sanity = dict(zip(SANITY, [round(float(t), 3) for t in predict(model, np.stack([el.vector(f) for f in SANITY]).astype(np.float32))]))
    log(f"test {test}\nsanity {sanity}")

    os.makedirs(args.exports, exist_ok=True)
    onnx_path = os.path.join(args.exports, "tc-resnet18.onnx")
    if args.state_out:
        kiago_loop.save_state(model, args.state_out)
    if not args.no_onnx:
        kiago_loop.export_onnx(model, torch.zeros(2, *kc.IMAGE_SHAPE), onnx_path, "image")
    # test split for `kiago evaluate-model` (formula, target); committed: small
    split_dir = args.splits
    os.makedirs(split_dir, exist_ok=True)
    with open(os.path.join(split_dir, "tc_test.csv.tmp"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["formula", "tc_kelvin", "kind", "pytorch_pred"])
        for fo, t, p in zip(P["test"][0], P["test"][2], pp):
            w.writerow([fo, f"{t:.6g}", "positive", f"{p:.4f}"])
        for fo, p in zip(N["test"][0], pn):
            w.writerow([fo, "0", "negative", f"{p:.4f}"])
    os.replace(os.path.join(split_dir, "tc_test.csv.tmp"), os.path.join(split_dir, "tc_test.csv"))
    # element frequencies over the balanced training set (positives counted r times), as KIAGO's atom_prob
    bal = np.concatenate([np.repeat(P["train"][1], r, axis=0), N["train"][1]])
    files = ["supercon.csv", "non_superconductors.csv", "elements.csv"]
    card = {
        "name": "tc-resnet18", "kind": "tc-resnet18", "target": "superconducting Tc", "unit": "K",
        "input": {"name": "image", "shape": ["batch", 4, 7, 32],
                  "featuriser": "periodic-table image: fraction of element Z at [pt32_channel(s=0,p=1,d=2,f=3), pt32_row, pt32_col] of elements.csv"},
        "output": {"name": "output", "shape": ["batch", 1]},
        "architecture": "torchvision-style ResNet18, conv1 4->64 7x7/2 pad 3 no bias, BasicBlocks [2,2,2,2], fc 512->1, final ReLU",
        "data_files": {f: {"sha256": kc.sha256(os.path.join(args.data, f))} for f in files},
        "data_policy": {
            "positives": "supercon.csv minus rows flagged O7_unverified (imputed oxygen, as KIAGO drops OX/OY rows); Tc averaged over identical compositions (5-decimal fractions)",
            "negatives": "non_superconductors.csv (Tc = 0) minus rows whose element set occurs among the positives (KIAGO's COD rule)",
            **counts},
        "split": {"method": "element_division: unique element sets shuffled with numpy default_rng(seed) (negatives seed+1); 5% valid, 15% test, rest train",
                  "seed": args.seed, "sizes": sizes},
        "balancing": {"r": r, "per_epoch": f"all train positives + {n_neg_epoch} negatives sampled without replacement (same expected balance as repeating positives r times)"},
        "training": {"loss": "L1 on kelvin", "optimiser": "Adam", "lr": args.lr, "schedule": "cosine to 0 over min(max_epochs, wall-clock budget)",
                     "batch": args.batch, "max_epochs": args.max_epochs, "budget_minutes": args.budget_minutes,
                     "epochs": state["epoch"], "best_epoch": state["best_epoch"], "selection": "best valid 0.5*(MAE_pos + MAE_neg)",
                     "train_seconds": round(state["train_seconds"]), "threads": args.threads, "device": str(dev) + (f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""),
                     "torch": torch.__version__, "finished_utc": f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}",
                     "history": state["history"]},
        "metrics": {"test": test, "valid": valid},
        "sanity_pytorch": sanity,
        "element_frequencies": kc.element_frequencies(bal),
        "element_frequencies_rows": int(len(bal)),
        "element_frequencies_note": "fraction of balanced training rows (positives repeated r times + negatives) containing each element, Z = 1..118",
        "onnx": None if args.no_onnx else {"file": "tc-resnet18.onnx", "sha256": kc.sha256(onnx_path), "opset": 13},
    }
    kiago_loop.write_json(os.path.join(args.exports, "tc-resnet18.card.json"), card)
    log(f"wrote {args.exports} (ONNX {'skipped' if args.no_onnx else onnx_path}) and card; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
