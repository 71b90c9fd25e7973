"""Train the SuperDiff-style denoiser (DDPM, 1000 steps, cosine schedule, epsilon prediction, MSE) on the Tc
training rows (see data.py), one CPU thread, within a wall-clock budget.

Usage (from the repository root):
    nohup nice -n 10 /usr/bin/python3 training/superdiff/train.py --minutes 40 > training/superdiff/runs/train.log 2>&1 &
    /usr/bin/python3 training/superdiff/train.py --minutes 50 --resume     # continue from runs/last.pt

Writes runs/last.pt (checkpoint every --checkpoint-minutes and at the end: weights, EMA weights, optimiser,
RNG states, history) and loss_curve.csv (epoch, wall_seconds, train_loss, valid_loss). The learning rate
follows a cosine from --lr to 0 over the budget (by elapsed training time), after a 200-step linear warm-up.
"""
import argparse
import copy
import csv
import datetime
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as sd_data  # noqa: E402
from model import Denoiser, Schedule  # noqa: E402

RUNS = os.path.join(HERE, "runs")


def log(msg):
    print(f"[{datetime.datetime.utcnow():%H:%M:%S}] {msg}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=40.0, help="training wall-clock budget (total, over resumes)")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint-minutes", type=float, default=3.0)
    ap.add_argument("--valid-draws", type=int, default=4, help="fixed (t, eps) draws per validation row")
    ap.add_argument("--resume", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(RUNS, exist_ok=True)
    ckpt_path = os.path.join(RUNS, "last.pt")

    d = sd_data.load(log)
    x_train = torch.from_numpy(d["train"][1])
    x_valid = torch.from_numpy(d["valid"][1])
    sched = Schedule(1000)
    T = sched.T
    sqrt_ab = torch.tensor(np.sqrt(sched.alpha_bar), dtype=torch.float32)
    sqrt_1mab = torch.tensor(np.sqrt(1.0 - sched.alpha_bar), dtype=torch.float32)

    # fixed validation draws: every valid row at valid_draws (t, eps) pairs, same for every epoch and run
    gv = torch.Generator().manual_seed(12345)
    xv0 = x_valid.repeat(args.valid_draws, 1)
    tv = torch.randint(0, T, (len(xv0),), generator=gv)
    ev = torch.randn(xv0.shape, generator=gv)
    inp_v = torch.cat([sqrt_ab[tv, None] * xv0 + sqrt_1mab[tv, None] * ev, tv[:, None].float()], dim=1)

    model = Denoiser(args.hidden, args.blocks)
    ema = copy.deepcopy(model)
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    state = {"epoch": 0, "step": 0, "train_seconds": 0.0, "history": []}
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen"])
        torch.set_rng_state(ck["torch_rng"])
        state = ck["state"]
        log(f"resumed from {ckpt_path}: epoch {state['epoch']}, {state['train_seconds']:.0f} s trained")
    elif os.path.exists(ckpt_path):
        log(f"{ckpt_path} exists; starting over (pass --resume to continue)")
    log(f"model {model.describe()['params']} params, H {args.hidden}, K {args.blocks}; "
        f"{len(x_train)} train rows, {len(x_valid)} valid rows x {args.valid_draws} draws; budget {args.minutes} min")
    budget = args.minutes * 60.0

    def save():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "state": state,
                    "args": vars(args), "data": {k: d[k] for k in ("sha256", "supercon_rows", "o7_unverified_dropped",
                                                                    "distinct_compositions", "test_rows_excluded",
                                                                    "dropped_beyond_cm_or_unparsable")},
                    "rows": {"train": len(x_train), "valid": len(x_valid)}}, tmp)
        os.replace(tmp, ckpt_path)

    def write_curve():
        with open(os.path.join(HERE, "loss_curve.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["epoch", "wall_seconds", "train_loss", "valid_loss"])
            for h in state["history"]:
                w.writerow([h["epoch"], f"{h['wall_seconds']:.1f}", f"{h['train_loss']:.6f}", f"{h['valid_loss']:.6f}"])

    def valid_loss(net):
        net.eval()
        with torch.no_grad():
            tot = 0.0
            for b in range(0, len(inp_v), 2048):
                tot += float(((net(inp_v[b:b + 2048]) - ev[b:b + 2048]) ** 2).sum())
        net.train()
        return tot / ev.numel()

    last_ckpt = time.time()
    while state["train_seconds"] < budget:
        t0 = time.time()
        order = torch.randperm(len(x_train), generator=gen)
        tot, nb = 0.0, 0
        for b in range(0, len(order), args.batch):
            x0 = x_train[order[b:b + args.batch]]
            t = torch.randint(0, T, (len(x0),), generator=gen)
            eps = torch.randn(x0.shape, generator=gen)
            xt = sqrt_ab[t, None] * x0 + sqrt_1mab[t, None] * eps
            pred = model(torch.cat([xt, t[:, None].float()], dim=1))
            loss = ((pred - eps) ** 2).mean()
            frac = min((state["train_seconds"] + time.time() - t0) / budget, 1.0)
            lr = args.lr * min(1.0, (state["step"] + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * frac))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(args.ema).add_(pm, alpha=1 - args.ema)
            state["step"] += 1
            tot += float(loss)
            nb += 1
        state["epoch"] += 1
        state["train_seconds"] += time.time() - t0
        vl = valid_loss(ema)
        state["history"].append({"epoch": state["epoch"], "wall_seconds": state["train_seconds"],
                                 "train_loss": tot / nb, "valid_loss": vl})
        if state["epoch"] % 5 == 1 or state["train_seconds"] >= budget:
            log(f"epoch {state['epoch']} step {state['step']} {state['train_seconds']:.0f}s lr {lr:.2e} "
                f"train {tot / nb:.5f} valid(EMA) {vl:.5f}")
        write_curve()
        if time.time() - last_ckpt > args.checkpoint_minutes * 60:
            save()
            last_ckpt = time.time()
    state["final_raw_valid_loss"] = valid_loss(model)
    save()
    write_curve()
    h = state["history"][-1]
    log(f"done: {state['epoch']} epochs, {state['step']} steps, {state['train_seconds']:.0f} s; final train "
        f"{h['train_loss']:.5f}, valid(EMA) {h['valid_loss']:.5f}, valid(raw) {state['final_raw_valid_loss']:.5f}")


if __name__ == "__main__":
    main()
