"""Train several settings of both predictors side by side (one process each, e.g. on one GPU) and keep, per model,
the run with the best validation score. Test metrics are only read after the choice is made from validation.

Usage: python3 sweep.py --out DIR --budget-minutes 5 [--data ../../shared/data] [--device cuda]
       [--runs tc-a,elemnet-a]   (default: every run in RUNS)
Writes DIR/<run>/{train.log, card.json (from exports/), state.pt, <split>.csv} and DIR/selection.json;
the chosen runs are copied to DIR/best/<model>/. Then, on a machine with the C# tools, export_onnx.py turns a
chosen state.pt into ONNX for `kiago convert`."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (script, model, extra arguments). ElemNet's paper setting is lr 1e-4 / batch 32; 5e-4 / 256 is what the
# first CPU run used (its validation MAE stalled at 0.19 eV/atom), so the sweep brackets both.
RUNS = {
    "tc-a": ("train_tc.py", "tc", ["--lr", "1e-3", "--batch", "256"]),
    "tc-b": ("train_tc.py", "tc", ["--lr", "2e-3", "--batch", "512"]),
    "elemnet-a": ("train_elemnet.py", "elemnet", ["--lr", "1e-4", "--batch", "32"]),
    "elemnet-b": ("train_elemnet.py", "elemnet", ["--lr", "5e-4", "--batch", "256"]),
    "elemnet-c": ("train_elemnet.py", "elemnet", ["--lr", "1e-3", "--batch", "512"]),
}
CARD = {"tc": "tc-resnet18.card.json", "elemnet": "elemnet.card.json"}
SPLIT = {"tc": "tc_test.csv", "elemnet": "elemnet_test.csv"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--budget-minutes", type=float, required=True)
    ap.add_argument("--data", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per run")
    ap.add_argument("--runs", default=",".join(RUNS))
    args = ap.parse_args()
    names = [n for n in args.runs.split(",") if n]
    unknown = [n for n in names if n not in RUNS]
    if unknown:
        sys.exit(f"unknown run(s) {unknown}; known: {list(RUNS)}")
    os.makedirs(args.out, exist_ok=True)
    procs = {}
    for name in names:
        script, model, extra = RUNS[name]
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        cmd = [sys.executable, os.path.join(HERE, script), "--budget-minutes", str(args.budget_minutes),
               "--device", args.device, "--threads", str(args.threads), "--restart", "--no-onnx",
               "--checkpoint", os.path.join(d, "checkpoint.pt"), "--exports", os.path.join(d, "exports"),
               "--splits", d, "--state-out", os.path.join(d, "state.pt"), *extra]
        if args.data:
            cmd += ["--data", args.data]
        log = open(os.path.join(d, "train.log"), "w")
        log.write(" ".join(cmd) + "\n")
        log.flush()
        procs[name] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}), log)
        print(f"[{time.strftime('%H:%M:%S')}] started {name}: {' '.join(extra)}", flush=True)
    results = {}
    for name, (p, log) in procs.items():
        rc = p.wait()
        log.close()
        _, model, extra = RUNS[name]
        d = os.path.join(args.out, name)
        card_path = os.path.join(d, "exports", CARD[model])
        entry = {"model": model, "args": extra, "rc": rc}
        if rc == 0 and os.path.exists(card_path):
            shutil.copy(card_path, os.path.join(d, "card.json"))
            with open(card_path) as f:
                card = json.load(f)
            history = card["training"]["history"]
            entry["best_valid_score"] = min(h["valid_score"] for h in history)
            entry["epochs"] = card["training"]["epochs"]
            entry["best_epoch"] = card["training"]["best_epoch"]
        results[name] = entry
        print(f"[{time.strftime('%H:%M:%S')}] {name} finished rc={rc} {entry.get('best_valid_score')}", flush=True)
    chosen = {}
    for model in sorted({e["model"] for e in results.values()}):
        ok = {n: e for n, e in results.items() if e["model"] == model and "best_valid_score" in e}
        if not ok:
            continue
        best = min(ok, key=lambda n: ok[n]["best_valid_score"])
        chosen[model] = best
        dst = os.path.join(args.out, "best", model)
        os.makedirs(dst, exist_ok=True)
        for f in ("state.pt", "card.json", SPLIT[model]):
            shutil.copy(os.path.join(args.out, best, f), os.path.join(dst, f))
    with open(os.path.join(args.out, "selection.json"), "w") as f:
        json.dump({"rule": "per model, the run with the lowest validation score (its own selection metric)",
                   "runs": results, "chosen": chosen}, f, indent=1)
    print(json.dumps(chosen), flush=True)
    return 0 if chosen else 1


if __name__ == "__main__":
    sys.exit(main())
