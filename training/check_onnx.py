"""Evaluates an exported ONNX model independently of PyTorch's module code (a small interpreter over the ONNX
graph using torch functional ops), on a test-split CSV, with fp32 weights and with weights rounded to fp16
(what `kiago convert --fp16` stores). Prints MAE/RMSE/R² (and for Tc the negatives > 10 K rate) and the largest
difference from the PyTorch predictions in the CSV: the figures `kiago evaluate-model` must reproduce.

Usage: /usr/bin/python3 check_onnx.py exports/tc-resnet18.onnx splits/tc_test.csv
       /usr/bin/python3 check_onnx.py exports/elemnet.onnx splits/elemnet_test.csv"""
import csv
import json
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_graph(model, feed, fp16):
    env = {}
    for init in model.graph.initializer:
        w = numpy_helper.to_array(init)
        if fp16 and w.dtype == np.float32:
            w = w.astype(np.float16).astype(np.float32)
        env[init.name] = torch.from_numpy(w.copy())
    env.update(feed)
    for n in model.graph.node:
        a, i = attrs(n), [env[x] if x else None for x in n.input]
        t = n.op_type
        if t == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            assert pads[0] == pads[2] and pads[1] == pads[3]
            y = F.conv2d(i[0], i[1], i[2] if len(i) > 2 else None, tuple(a.get("strides", [1, 1])), (pads[0], pads[1]))
        elif t == "BatchNormalization":
            y = F.batch_norm(i[0], i[3], i[4], i[1], i[2], False, 0.0, a.get("epsilon", 1e-5))
        elif t == "Relu":
            y = torch.relu(i[0])
        elif t == "MaxPool":
            pads = a.get("pads", [0, 0, 0, 0])
            y = F.max_pool2d(i[0], tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1])), (pads[0], pads[1]))
        elif t == "Add":
            y = i[0] + i[1]
        elif t == "GlobalAveragePool":
            y = i[0].mean(dim=(2, 3), keepdim=True)
        elif t == "Flatten":
            y = torch.flatten(i[0], a.get("axis", 1))
        elif t == "Gemm":
            b = i[1].t() if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (i[0] @ b) + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        elif t == "MatMul":
            y = i[0] @ i[1]
        elif t == "Identity":
            y = i[0]
        else:
            raise NotImplementedError(f"op {t} (node {n.name})")
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def main():
    onnx_path, csv_path = sys.argv[1], sys.argv[2]
    model = onnx.load(onnx_path)
    ops = sorted({n.op_type for n in model.graph.node})
    el = kc.Elements(sys.argv[3] if len(sys.argv) > 3 else kc.DEFAULT_DATA)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    target_col = [c for c in rows[0] if c not in ("formula", "kind", "pytorch_pred")][0]
    x = np.stack([el.vector(r["formula"]) for r in rows]).astype(np.float32)
    tc = model.graph.input[0].name == "image"
    inp = el.image(x) if tc else x[:, kc.ELEMNET_INDICES]
    name = model.graph.input[0].name
    target = np.array([float(r[target_col]) for r in rows])
    ref = np.array([float(r["pytorch_pred"]) for r in rows])
    pos = np.array([r.get("kind", "positive") == "positive" for r in rows])
    out = {"onnx": onnx_path, "ops": ops, "rows": len(rows)}
    with torch.no_grad():
        for label, fp16 in (("fp32", False), ("fp16_weights", True)):
            pred = np.concatenate([run_graph(model, {name: torch.from_numpy(inp[b:b + 2048])}, fp16).numpy().reshape(-1)
                                   for b in range(0, len(inp), 2048)]).astype(np.float64)
            m = kc.regression_metrics(pred[pos], target[pos])
            m["max_abs_diff_vs_pytorch_csv"] = float(np.abs(pred - ref).max())
            if tc:
                m["neg_rate_gt_10K"] = float((pred[~pos] > 10).mean())
            out[label] = m
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
