"""Small ensemble members for the uncertainty of the shipped predictors (docs/MODELS.md, "Uncertainty").

Each member is a plain MLP on the composition, trained on the SAME training split as its flagship (train_tc.py's
element-division split, train_elemnet.py's random split; the split code is shared, and the sizes are checked against
the flagship's card) with its own seed and a bootstrap resample of the training rows. Members are cheap: seconds per
epoch on one CPU core, so K of them can be trained where the flagship (ResNet18, trained on an H200) cannot.

Usage (resumable: a member whose ONNX + card exist is skipped; --restart redoes them):
    nice -n 19 /usr/bin/python3 training/train_members.py --model tc --members 6
    nice -n 19 /usr/bin/python3 training/train_members.py --model ef --members 6 [--mp aux]
Writes training/exports/members/<model>/member-<k>.onnx + member-<k>.card.json, and the validation split
(training/splits/<model>_valid.csv, committed: `kiago calibrate` fits the uncertainty on it) plus the training
compositions (training/exports/members/<model>/train_compositions.csv, for the applicability-domain data).

With --arch tokens a member is instead a small attention network over element tokens (kiago_models.TokenNet, the
Roost/CrabNet family; ONNX inputs indices + fractions, which Kiago recognises as the `tokens` kind): a different model
family whose disagreement with the flagship and the MLPs is what σ measures. Written to <model>-tokens/.

The Tc members take the 4x7x32 image like the ResNet (Flatten -> Linear 896 -> ...): an MLP on the flattened image
is the same function as an MLP on the 118 fractions (each element owns one cell), trained here on the fractions and
exported with the first layer's columns moved to the image cells."""
import argparse
import csv
import datetime
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
import kiago_features as kf  # noqa: E402
import kiago_loop  # noqa: E402
import kiago_models as km  # noqa: E402
import train_tc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class Mlp(nn.Module):
    """in -> hidden... (ReLU, dropout) -> 1; optional second head (the MP auxiliary task, never exported)."""

    def __init__(self, n_in, hidden, dropout, aux_head=False):
        super().__init__()
        layers, c = [], n_in
        for h in hidden:
            layers += [nn.Linear(c, h), nn.ReLU(), nn.Dropout(dropout)]
            c = h
        self.trunk = nn.Sequential(*layers)
        self.head = nn.Linear(c, 1)
        self.aux = nn.Linear(c, 1) if aux_head else None

    def forward(self, x):
        return self.head(self.trunk(x))

    def both(self, x):
        t = self.trunk(x)
        return self.head(t), self.aux(t)


class ImageMlp(nn.Module):
    """The exported Tc member: image [B,4,7,32] -> Flatten -> the MLP with its first layer moved to image cells ->
    ReLU (Tc >= 0, as the ResNet's final ReLU; training ran without it, clipping at 0 can only reduce the error)."""

    def __init__(self, mlp, atom_map):
        super().__init__()
        first = mlp.trunk[0]
        m = torch.from_numpy(atom_map.reshape(kc.N_ELEMENTS, -1))  # 118 x 896, one 1 per element
        lin = nn.Linear(m.shape[1], first.out_features)
        with torch.no_grad():
            lin.weight.copy_(first.weight @ m)  # W_img[:, cell(Z)] = W[:, Z-1]
            lin.bias.copy_(first.bias)
        rest = [l for l in list(mlp.trunk)[1:] if not isinstance(l, nn.Dropout)]
        self.net = nn.Sequential(nn.Flatten(), lin, *rest, mlp.head, nn.ReLU())

    def forward(self, x):
        return self.net(x)


class PlainMlp(nn.Module):
    def __init__(self, mlp):
        super().__init__()
        self.net = nn.Sequential(*[l for l in mlp.trunk if not isinstance(l, nn.Dropout)], mlp.head)

    def forward(self, x):
        return self.net(x)


def random_rows(n, seed, valid_ratio, test_ratio):
    """The rows themselves shuffled and cut (no grouping): the 'random split' of the literature."""
    order = np.random.default_rng(seed).permutation(n)
    nv, nt = int(round(n * valid_ratio)), int(round(n * test_ratio))
    out = np.empty(n, dtype=object)
    out[order[:nv]], out[order[nv:nv + nt]], out[order[nv + nt:]] = "valid", "test", "train"
    return out


def load_tc(args, el, log):
    pos, neg, _ = train_tc.load(args.data, el, log)
    if args.split == "random":
        pos_split, neg_split = random_rows(len(pos), args.seed, 0.05, 0.15), random_rows(len(neg), args.seed + 1, 0.05, 0.15)
    else:
        pos_split = kc.split_groups([kc.element_set(v) for _, v, _, _ in pos], args.seed, 0.05, 0.15)
        neg_split = kc.split_groups([kc.element_set(v) for _, v, _, _ in neg], args.seed + 1, 0.05, 0.15)
    out = {}
    for s in ("train", "valid", "test"):
        p = [r for r, t in zip(pos, pos_split) if t == s]
        n = [r for r, t in zip(neg, neg_split) if t == s]
        out[s] = {"formula": [r[0] for r in p] + [r[0] for r in n],
                  "x": np.stack([r[1] for r in p] + [r[1] for r in n]).astype(np.float32),
                  "y": np.array([r[2] for r in p] + [0.0] * len(n), dtype=np.float32),
                  "positive": np.array([True] * len(p) + [False] * len(n))}
    return out


def load_ef(args, el, log):
    """train_elemnet.py's rows and split, row for row."""
    idx = np.array(kc.ELEMNET_INDICES)
    outside = np.ones(kc.N_ELEMENTS, dtype=bool)
    outside[idx] = False
    rows = kc.read_csv(os.path.join(args.data, "formation_energy_oqmd.csv"))
    formulas, xs, ys = [], [], []
    for r in rows:
        v = el.vector(r["formula"])
        if v[outside].any():
            continue
        formulas.append(r["formula"])
        xs.append(v)
        ys.append(float(r["formation_energy_ev_per_atom"]))
    x118 = np.stack(xs).astype(np.float32)
    y = np.array(ys, dtype=np.float32)
    if args.split == "element":  # whole element systems held out (as the Tc split), for comparison
        which = kc.split_groups([kc.element_set(v) for v in x118], args.seed, 0.05, 0.05)
        parts = {s: np.nonzero(which == s)[0] for s in ("valid", "test", "train")}
    else:
        order = np.random.default_rng(args.seed).permutation(len(y))
        n = int(round(0.05 * len(y)))
        parts = {"valid": order[:n], "test": order[n:2 * n], "train": order[2 * n:]}
    return {s: {"formula": [formulas[i] for i in ix], "x": x118[ix], "y": y[ix], "positive": np.ones(len(ix), bool)}
            for s, ix in parts.items()}


def load_mp(args, el, train_keys):
    """formation_energy_mp.csv as an auxiliary task: ground state (minimum over polymorphs) per composition, only
    compositions inside ElemNet's 86 elements. Its own output head: MP's fitted corrections (anion/transition-metal
    energy corrections, other pseudopotentials) differ from OQMD's references, so its values never train the OQMD
    head directly; the trunk shares what the two agree on. Compositions of the OQMD valid/test splits are left out
    so nothing of the held-out rows leaks in through MP."""
    idx = np.array(kc.ELEMNET_INDICES)
    outside = np.ones(kc.N_ELEMENTS, dtype=bool)
    outside[idx] = False
    best = {}
    for r in kc.read_csv(os.path.join(args.data, "formation_energy_mp.csv")):
        v = el.vector(r["formula"])
        if v[outside].any():
            continue
        k = kc.composition_key(v)
        e = float(r["formation_energy_ev_per_atom"])
        if k not in best or e < best[k][1]:
            best[k] = (v, e)
    keep = [(v, e) for k, (v, e) in best.items() if k not in train_keys]
    return np.stack([v for v, _ in keep]).astype(np.float32), np.array([e for _, e in keep], dtype=np.float32)


def unseen_elements(x118_rows, extra=None):
    """Atomic numbers (1..118) of the elements no training row contains (extra: more rows, e.g. the pure elements)."""
    seen = (np.asarray(x118_rows) > 0).any(axis=0)
    if extra is not None:
        seen |= (np.asarray(extra) > 0).any(axis=0)
    return [z + 1 for z in range(kc.N_ELEMENTS) if not seen[z]]


def neutralise_embeddings(table, unseen):
    """The embedding rows of elements no training row contains never got a gradient: they are still random, and a
    composition holding such an element would get an arbitrary prediction (and gradient) from them. They are set to
    the mean of the trained rows (1..118, row 0 is the empty slot), a neutral 'some element'; the domain score flags
    such compositions anyway. table: (119, d) array or tensor, edited in place."""
    seen = [z for z in range(1, table.shape[0]) if z not in set(unseen)]
    mean = table[seen].mean(0)
    for z in unseen:
        table[z] = mean
    return table


def predict_rows(model, inputs, clip):
    """The model on featurised rows (a tuple of tensors), in batches of 4096, as float64; clip: Tc's max(0, .)."""
    with torch.no_grad():
        out = np.concatenate([model(*(t[b:b + 4096] for t in inputs)).squeeze(1).numpy()
                              for b in range(0, len(inputs[0]), 4096)]).astype(np.float64)
    return np.maximum(out, 0.0) if clip else out


def write_csv(path, header, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["tc", "ef"], required=True)
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    ap.add_argument("--seed", type=int, default=20250, help="the flagship's split seed (do not change)")
    ap.add_argument("--members", type=int, default=6)
    ap.add_argument("--first", type=int, default=0, help="first member index (members are seeded by index)")
    ap.add_argument("--hidden", default=None, help="comma-separated widths (default tc 512,512,256; ef 512,512,256,128)")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=1e-6)
    ap.add_argument("--epochs", type=int, default=None, help="default tc 60, ef 30")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--bootstrap", type=int, default=1, help="1 = each member trains on a bootstrap resample")
    ap.add_argument("--mp", choices=["none", "aux"], default="none", help="ef only: formation_energy_mp.csv as an auxiliary head")
    ap.add_argument("--split", choices=["default", "random", "element"], default="default",
                    help="default = the flagship's split; tc: random = random rows; ef: element = element systems held out. "
                         "Not the shipped members: for the split comparison only (reports test figures, writes no split files)")
    ap.add_argument("--arch", choices=["mlp", "tokens"], default="mlp", help="tokens: attention over element tokens")
    ap.add_argument("--tokens", type=int, default=None, help="tokens per composition (default tc 8, ef 6)")
    ap.add_argument("--width", type=int, default=64, help="tokens: model width")
    ap.add_argument("--layers", type=int, default=3, help="tokens: attention layers")
    ap.add_argument("--heads", type=int, default=4, help="tokens: attention heads")
    ap.add_argument("--warmup", type=int, default=300, help="tokens: linear learning-rate warm-up, optimiser steps")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="default training/exports/members/<model>")
    ap.add_argument("--restart", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hidden = [int(h) for h in (args.hidden or ("512,512,256" if args.model == "tc" else "512,512,256,128")).split(",")]
    epochs = args.epochs or (60 if args.model == "tc" else 30)
    tokens = args.arch == "tokens"
    if tokens and args.mp != "none":
        ap.error("--mp aux is for the MLP members only")
    n_tokens = args.tokens or (8 if args.model == "tc" else 6)
    out_dir = args.out or os.path.join(HERE, "exports", "members", args.model + ("-tokens" if tokens else ""))
    os.makedirs(out_dir, exist_ok=True)

    def log(msg):
        print(f"[{datetime.datetime.utcnow():%H:%M:%S}] {msg}", flush=True)

    el = kc.Elements(args.data)
    data = (load_tc if args.model == "tc" else load_ef)(args, el, log)
    sizes = {s: int(len(d["y"])) for s, d in data.items()}
    log(f"{args.model}: split sizes {sizes}")
    idx = np.array(kc.ELEMNET_INDICES)
    if tokens:
        def feat(x):
            i, f = kf.tokens(x, n_tokens)
            return torch.from_numpy(i), torch.from_numpy(f)
    else:
        def feat(x):
            return (torch.from_numpy(np.ascontiguousarray(x if args.model == "tc" else x[:, idx])),)
    n_in = 118 if args.model == "tc" else 86

    # the validation split (committed) and the training compositions (for the domain data)
    split_dir = os.path.join(HERE, "splits")
    v = data["valid"]
    if args.split != "default":
        out_dir = os.path.join(out_dir, f"split-{args.split}")
        os.makedirs(out_dir, exist_ok=True)
        split_dir = out_dir
    if args.model == "tc":
        write_csv(os.path.join(split_dir, "tc_valid.csv"), ["formula", "tc_kelvin", "kind"],
                  [[f, f"{t:.6g}", "positive" if p else "negative"] for f, t, p in zip(v["formula"], v["y"], v["positive"])])
    else:
        write_csv(os.path.join(split_dir, "elemnet_valid.csv"), ["formula", "formation_energy_ev_per_atom"],
                  [[f, f"{t:.6g}"] for f, t in zip(v["formula"], v["y"])])
    write_csv(os.path.join(out_dir, "train_compositions.csv"), ["formula"], [[f] for f in data["train"]["formula"]])

    files = ["supercon.csv", "non_superconductors.csv", "elements.csv"] if args.model == "tc" else \
        ["formation_energy_oqmd.csv", "elements.csv"] + (["formation_energy_mp.csv"] if args.mp == "aux" else [])
    hashes = {f: kc.sha256(os.path.join(args.data, f)) for f in files}
    tr = data["train"]
    xtr, ytr = feat(tr["x"]), torch.from_numpy(tr["y"])
    pos_tr = np.nonzero(tr["positive"])[0]
    neg_tr = np.nonzero(~tr["positive"])[0]
    xv, yv, pv = feat(v["x"]), v["y"], v["positive"]
    mp = None
    if args.mp == "aux":
        heldout = {kc.composition_key(x) for s in ("valid", "test") for x in data[s]["x"].astype(np.float64)}
        mx, my = load_mp(args, el, heldout)
        mp = (torch.from_numpy(mx[:, idx]), torch.from_numpy(my))
        log(f"MP auxiliary rows: {len(my)} compositions (ground state per composition, held-out OQMD compositions removed)")
    pure = feat(np.eye(kc.N_ELEMENTS, dtype=np.float32)[idx]) if args.model == "ef" else None

    for k in range(args.first, args.first + args.members):
        onnx_path = os.path.join(out_dir, f"member-{k}.onnx")
        card_path = os.path.join(out_dir, f"member-{k}.card.json")
        if os.path.exists(onnx_path) and os.path.exists(card_path) and not args.restart:
            log(f"member {k}: exists, skipped")
            continue
        seed = args.seed * 100 + k + (50 if tokens else 0)  # the token members' seeds differ from the MLPs' of the same index
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        # bootstrap within positives and negatives separately (keeps the balance of the flagship's epochs)
        bp = rng.choice(pos_tr, len(pos_tr)) if args.bootstrap else pos_tr
        bn = rng.choice(neg_tr, len(neg_tr)) if args.bootstrap and len(neg_tr) else neg_tr
        if tokens:
            model = km.TokenNet(d=args.width, heads=args.heads, layers=args.layers, ff=2 * args.width, dropout=args.dropout,
                                scale=30.0 if args.model == "tc" else 1.0)
        else:
            model = Mlp(n_in, hidden, args.dropout, aux_head=mp is not None)
        opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
        r = max(1, len(bn) // max(1, len(bp))) if len(bn) else 1
        best, best_score, best_epoch, history = None, float("inf"), -1, []
        t_start = time.time()
        steps_total = epochs
        for epoch in range(epochs):
            g = torch.Generator().manual_seed(seed * 1000 + epoch)
            if args.model == "tc":
                negs = bn[torch.randperm(len(bn), generator=g)[:len(bn) // r].numpy()]
                rows = np.concatenate([bp, negs])
            else:
                rows = bp
            rows_t = torch.from_numpy(rows)
            x, y = tuple(t[rows_t] for t in xtr), ytr[rows_t]
            if pure is not None:  # as train_elemnet.py: Ef(pure element) = 0, x20
                x = tuple(torch.cat([t, p.repeat(20, 1)]) for t, p in zip(x, pure))
                y = torch.cat([y, torch.zeros(86 * 20)])
            perm = torch.randperm(len(y), generator=g)
            model.train()
            total = 0.0
            lr = kiago_loop.cosine_lr(args.lr, epoch / steps_total)
            for gr in opt.param_groups:
                gr["lr"] = lr
            mp_perm = torch.randperm(len(mp[1]), generator=g) if mp is not None else None
            n_batches = (len(perm) + args.batch - 1) // args.batch
            for bi, b in enumerate(range(0, len(perm), args.batch)):
                i = perm[b:b + args.batch]
                if len(i) < 2:
                    continue
                opt.zero_grad(set_to_none=True)
                if tokens and args.warmup:
                    step = epoch * n_batches + bi + 1
                    for gr in opt.param_groups:
                        gr["lr"] = lr * min(1.0, step / args.warmup)
                if mp is None:
                    loss = torch.nn.functional.l1_loss(model(*(t[i] for t in x)).squeeze(1), y[i])
                else:
                    out, _ = model.both(x[0][i])
                    loss = torch.nn.functional.l1_loss(out.squeeze(1), y[i])
                    j = mp_perm[(bi * args.batch) % len(mp_perm):][:args.batch]
                    _, aux = model.both(mp[0][j])
                    loss = loss + 0.5 * torch.nn.functional.l1_loss(aux.squeeze(1), mp[1][j])
                loss.backward()
                opt.step()
                total += float(loss) * len(i)
            model.eval()
            pred = predict_rows(model, xv, clip=args.model == "tc")
            if args.model == "tc":
                score = 0.5 * (np.abs(pred[pv] - yv[pv]).mean() + np.abs(pred[~pv]).mean())
            else:
                score = float(np.abs(pred - yv).mean())
            history.append({"epoch": epoch + 1, "train_l1": round(total / len(perm), 5), "lr": lr, "valid_score": round(float(score), 5),
                            "seconds": round(time.time() - t_start, 1)})
            if score < best_score:
                best_score, best_epoch = float(score), epoch + 1
                best = {n: t.detach().clone() for n, t in model.state_dict().items()}
            log(f"member {k} epoch {epoch + 1}/{epochs} train {total / len(perm):.4f} valid {score:.4f}")
        model.load_state_dict(best)
        model.eval()
        unseen = []
        if tokens:
            unseen = unseen_elements(tr["x"], np.eye(kc.N_ELEMENTS)[idx] if args.model == "ef" else None)
            with torch.no_grad():
                neutralise_embeddings(model.embed.weight, unseen)
        if tokens:
            model.relu = args.model == "tc"  # trained without it, as the MLPs; clipping at 0 can only reduce the error
            kiago_loop.export_onnx(model, (torch.zeros(2, n_tokens, dtype=torch.long), torch.zeros(2, n_tokens)), onnx_path,
                                   ("indices", "fractions"))
        else:
            exported = ImageMlp(model, el.atom_map) if args.model == "tc" else PlainMlp(model)
            exported.eval()
            example = torch.zeros(2, *kc.IMAGE_SHAPE) if args.model == "tc" else torch.zeros(2, 86)
            kiago_loop.export_onnx(exported, example, onnx_path, "image" if args.model == "tc" else "fractions")
        # check the exported module equals the trained one (the column move is exact)
        if not tokens:
            with torch.no_grad():
                xs = torch.from_numpy(v["x"][:256])
                a = exported(torch.from_numpy(el.image(v["x"][:256]))).squeeze(1) if args.model == "tc" else exported(xs[:, idx]).squeeze(1)
                b = model(xs if args.model == "tc" else xs[:, idx]).squeeze(1)
                if args.model == "tc":
                    b = torch.relu(b)
                assert float((a - b).abs().max()) < 1e-4, "exported member differs from the trained one"
        card = {
            "name": f"{'tc' if args.model == 'tc' else 'elemnet'}-member-{k}", "role": "uncertainty ensemble member",
            "kind": "tokens" if tokens else "tc-resnet" if args.model == "tc" else "elemnet",
            "architecture": (f"{n_tokens} element tokens (Z, fraction) -> embedding + fraction MLP -> {args.layers} x "
                             f"pre-norm attention (width {args.width}, {args.heads} heads, keys weighted by fraction, GELU "
                             f"feed-forward {2 * args.width}) -> fraction-weighted mean -> Linear {args.width} GELU -> Linear 1"
                             + (" x 30 -> ReLU" if args.model == "tc" else "")) if tokens else ("Flatten(4x7x32 image) -> " if args.model == "tc" else "86 fractions -> ") +
                            " -> ".join(f"Linear {h} ReLU" for h in hidden) + " -> Linear 1" + (" -> ReLU" if args.model == "tc" else ""),
            "data_files": {f: {"sha256": h} for f, h in hashes.items()},
            "split": {"same as": ("train_tc.py (element division, seed 20250/20251, 5/15/80)" if args.model == "tc"
                      else "train_elemnet.py (random permutation, seed 20250, 5/5/90)") if args.split == "default"
                      else f"{args.split} split (comparison only)", "sizes": sizes},
            "training": {"seed": seed, "bootstrap": bool(args.bootstrap), "loss": "L1", "optimiser": "Adam",
                         "lr": args.lr, "weight_decay": args.weight_decay, "dropout": args.dropout, "batch": args.batch,
                         "epochs": epochs, "best_epoch": best_epoch, "schedule": "cosine per epoch",
                         "mp": args.mp, "arch": args.arch,
                         **({"tokens": n_tokens, "width": args.width, "layers": args.layers, "heads": args.heads,
                             "warmup_steps": args.warmup, "unseen_elements": unseen,
                             "unseen_elements_note": "embedding rows of elements in no training row set to the mean of the trained rows"}
                            if tokens else {}), "threads": args.threads, "torch": torch.__version__,
                         "train_seconds": round(time.time() - t_start), "finished_utc": f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}",
                         "history": history},
            "metrics": {"valid_score": best_score,
                        "valid_score_meaning": "0.5 (MAE positives + MAE negatives), K" if args.model == "tc" else "MAE, eV/atom"},
            "onnx": {"file": os.path.basename(onnx_path), "sha256": kc.sha256(onnx_path), "opset": 13},
        }
        # the validation rows with this member's fp32 predictions: `kiago evaluate-model --reference-column pytorch_pred`
        # checks the engine's import of the ONNX file against PyTorch
        target_column = "tc_kelvin" if args.model == "tc" else "formation_energy_ev_per_atom"
        write_csv(os.path.join(out_dir, f"member-{k}.valid_predictions.csv"), ["formula", target_column, "pytorch_pred"],
                  [[f, f"{t:.6g}", f"{p:.6f}"] for f, t, p in zip(v["formula"], v["y"], predict_rows(model, xv, args.model == "tc"))])
        te = data["test"]
        pt = predict_rows(model, feat(te["x"]), args.model == "tc")
        tp = te["positive"]
        card["metrics"]["test"] = kc.regression_metrics(pt[tp], te["y"][tp])
        card["metrics"]["test_note"] = ("positives" if args.model == "tc" else "all rows") + \
            (" (read once, after training; the shipped members are chosen and calibrated on validation only)" if args.split == "default" else "")
        kiago_loop.write_json(card_path, card)
        log(f"member {k}: best epoch {best_epoch}, valid {best_score:.4f}, {time.time() - t_start:.0f} s -> {onnx_path}")


if __name__ == "__main__":
    main()
