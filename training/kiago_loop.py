"""Time-budgeted, resumable training loop shared by both scripts.

The learning rate follows a cosine from lr to ~0 over `progress` = max(epoch/max_epochs, train_seconds/budget):
on a shared 2-core machine the epoch time is not known in advance, so the wall-clock budget ends the run
cleanly. A checkpoint is written after every epoch; rerunning the script resumes from it."""
import copy
import inspect
import json
import math
import os
import time

import torch


def cosine_lr(base, progress):
    return base * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def pick_device(name):
    """--device auto|cpu|cuda -> torch.device. On CUDA TF32 is switched off: the engine computes in strict fp32,
    and the test-split predictions written for `kiago evaluate-model` must be fp32 ones."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch.device(name)


def train(model, make_epoch, valid_score, args, log, device=torch.device("cpu")):
    """make_epoch(epoch) -> iterable of (x, y) CPU batches; valid_score(model) -> (score, dict) lower is better."""
    os.makedirs(os.path.dirname(args.checkpoint), exist_ok=True)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    state = {"epoch": 0, "train_seconds": 0.0, "best_score": float("inf"), "best_epoch": -1, "history": []}
    best = None
    if os.path.exists(args.checkpoint) and not args.restart:
        ck = torch.load(args.checkpoint, map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        best = ck["best"]
        log(f"resumed from {args.checkpoint} at epoch {state['epoch']} ({state['train_seconds']:.0f} s trained)")
    budget = args.budget_minutes * 60.0
    while True:
        progress = max(state["epoch"] / args.max_epochs, state["train_seconds"] / budget)
        if progress >= 1.0:
            break
        t0 = time.time()
        model.train()
        total, count = 0.0, 0
        n_batches = None
        for x, y in make_epoch(state["epoch"]):
            p = max(state["epoch"] / args.max_epochs, (state["train_seconds"] + time.time() - t0) / budget)
            if p >= 1.0 and count > 0:
                break  # budget spent: end inside the epoch rather than run a whole epoch at lr 0
            for g in opt.param_groups:
                g["lr"] = cosine_lr(args.lr, p)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.l1_loss(model(x), y)
            loss.backward()
            opt.step()
            total += float(loss) * len(y)
            count += len(y)
        train_time = time.time() - t0
        model.eval()
        with torch.no_grad():
            score, detail = valid_score(model)
        state["epoch"] += 1
        state["train_seconds"] += time.time() - t0
        entry = {"epoch": state["epoch"], "train_l1": total / max(count, 1), "valid_score": score,
                 "lr_end": opt.param_groups[0]["lr"], "epoch_seconds": round(time.time() - t0, 1),
                 "train_seconds": round(train_time, 1), **detail}
        state["history"].append(entry)
        if score < state["best_score"]:
            state["best_score"], state["best_epoch"] = score, state["epoch"]
            best = copy.deepcopy(model.state_dict())
        log(json.dumps(entry))
        tmp = args.checkpoint + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state, "best": best}, tmp)
        os.replace(tmp, args.checkpoint)
    if getattr(args, "select", "best") == "best":
        model.load_state_dict(best)
    state["selected"] = getattr(args, "select", "best")
    model.eval()
    return state


def export_onnx(model, example, path, input_name):
    """TorchScript-based export at opset 13 (the exporter Kiago's importer is tested against; PyTorch >= 2.9
    defaults to the dynamo exporter, so ask for the old one explicitly there). example and input_name may be tuples
    (a model with several inputs, e.g. indices and fractions)."""
    names = list(input_name) if isinstance(input_name, (tuple, list)) else [input_name]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    model = model.cpu().eval()
    kwargs = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(model, example, tmp, opset_version=13, input_names=names, output_names=["output"],
                      dynamic_axes={**{n: {0: "batch"} for n in names}, "output": {0: "batch"}}, do_constant_folding=True, **kwargs)
    os.replace(tmp, path)


def save_state(model, path):
    """The selected weights alone (fp32 state dict), for exporting ONNX on another machine (export_onnx.py)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    os.replace(tmp, path)


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
