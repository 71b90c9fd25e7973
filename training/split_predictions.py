"""Rewrites the pytorch_pred column of a split CSV with the fp32 predictions of an exported ONNX model (the
functional-op interpreter of check_onnx.py, so any of our exports: flagships and members). The previous column is
kept under --keep-as NAME. Used when the shipped flagship changes, so `kiago evaluate-model --reference-column
pytorch_pred` keeps checking the engine against PyTorch. Usage:
    /usr/bin/python3 training/split_predictions.py exports/members/ef/member-1.onnx splits/elemnet_test.csv --keep-as pytorch_pred_elemnet_2026_11_26"""
import argparse
import csv
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
from check_onnx import run_graph  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("csv")
    ap.add_argument("--keep-as", default=None)
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    args = ap.parse_args()
    model = onnx.load(args.onnx)
    el = kc.Elements(args.data)
    with open(args.csv, newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames), list(reader)
    x = np.stack([el.vector(r["formula"]) for r in rows]).astype(np.float32)
    name = model.graph.input[0].name
    inp = el.image(x) if name == "image" else x[:, kc.ELEMNET_INDICES]
    with torch.no_grad():
        pred = np.concatenate([run_graph(model, {name: torch.from_numpy(inp[b:b + 2048])}, False).numpy().reshape(-1)
                               for b in range(0, len(inp), 2048)])
    if args.keep_as and args.keep_as not in header:
        header.insert(header.index("pytorch_pred") + 1, args.keep_as)
        for r in rows:
            r[args.keep_as] = r["pytorch_pred"]
    for r, p in zip(rows, pred):
        r["pytorch_pred"] = f"{p:.5f}"
    tmp = args.csv + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, args.csv)
    print(f"{args.csv}: pytorch_pred <- {args.onnx} ({len(rows)} rows)" + (f", old column kept as {args.keep_as}" if args.keep_as else ""))


if __name__ == "__main__":
    main()
