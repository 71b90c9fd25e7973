"""Export the EMA weights of runs/last.pt to ONNX (opset 17) + model card + a verification pair.

Usage (from the repository root): /usr/bin/python3 training/superdiff/export.py
Writes runs/superdiff-denoiser.onnx, card.json, runs/verify_input.pb and runs/verify_output.pb (TensorProto).

After the TorchScript export the graph is tidied so that only ALLOWED_OPS remain: Constant nodes (the Slice
bounds) become initializers, and Identity nodes that alias an initializer (the exporter's de-duplication of
equal weights) become a copy of that initializer. The tidied graph is then run by a small numpy evaluator of
those ops and compared with PyTorch.
"""
import datetime
import hashlib
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as sd_data  # noqa: E402
from model import ALLOWED_OPS, Denoiser, Schedule  # noqa: E402

RUNS = os.path.join(HERE, "runs")


def tidy(m):
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    keep = []
    for n in g.node:
        if n.op_type == "Constant":
            attr = {a.name: a for a in n.attribute}
            t = onnx.TensorProto()
            t.CopyFrom(attr["value"].t)
            t.name = n.output[0]
            g.initializer.append(t)
            inits[t.name] = t
        elif n.op_type == "Identity" and n.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[n.input[0]])
            t.name = n.output[0]
            g.initializer.append(t)
            inits[t.name] = t
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    unused = [t for t in g.initializer if t.name not in used]
    for t in unused:
        g.initializer.remove(t)
    return m


def run_numpy(m, x):
    """Evaluate the tidied graph with numpy (only the ALLOWED_OPS that appear), float32."""
    env = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    env[m.graph.input[0].name] = x
    for n in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in n.attribute}
        i = [env[k] if k else None for k in n.input]
        op = n.op_type
        if op == "Gemm":
            A = i[0].T if a.get("transA", 0) else i[0]
            B = i[1].T if a.get("transB", 0) else i[1]
            y = a.get("alpha", 1.0) * (A @ B)
            if len(i) > 2 and i[2] is not None:
                y = y + a.get("beta", 1.0) * i[2]
        elif op == "MatMul":
            y = i[0] @ i[1]
        elif op in ("Add", "Sub", "Mul", "Div"):
            y = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op](i[0], i[1])
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-i[0]))
        elif op in ("Sin", "Cos"):
            y = np.sin(i[0]) if op == "Sin" else np.cos(i[0])
        elif op == "Concat":
            y = np.concatenate(i, axis=a["axis"])
        elif op == "Slice":
            sl = [slice(None)] * i[0].ndim
            axes = i[3] if len(i) > 3 and i[3] is not None else range(len(i[1]))
            steps = i[4] if len(i) > 4 and i[4] is not None else [1] * len(i[1])
            for s, e, ax, st in zip(i[1], i[2], axes, steps):
                sl[int(ax)] = slice(int(s), int(min(e, 2 ** 62)), int(st))
            y = i[0][tuple(sl)]
        elif op == "Gather":
            y = np.take(i[0], i[1], axis=a.get("axis", 0))
        elif op == "LayerNormalization":
            ax = a.get("axis", -1)
            mu = i[0].mean(axis=ax, keepdims=True)
            var = ((i[0] - mu) ** 2).mean(axis=ax, keepdims=True)
            y = (i[0] - mu) / np.sqrt(var + a.get("epsilon", 1e-5)) * i[1] + (i[2] if len(i) > 2 else 0)
        else:
            raise ValueError(f"numpy evaluator: op {op} not handled")
        env[n.output[0]] = y.astype(np.float32) if y.dtype == np.float64 else y
    return env[m.graph.output[0].name]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def main():
    torch.set_num_threads(1)
    ck = torch.load(os.path.join(RUNS, "last.pt"))
    args, st = ck["args"], ck["state"]
    net = Denoiser(args["hidden"], args["blocks"])
    net.load_state_dict(ck["ema"])
    net.eval()
    onnx_path = os.path.join(RUNS, "superdiff-denoiser.onnx")
    torch.onnx.export(net, torch.zeros(2, 97), onnx_path, input_names=["input"], output_names=["output"],
                      opset_version=17, do_constant_folding=True,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    m = tidy(onnx.load(onnx_path))
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    bad = set(ops) - ALLOWED_OPS
    if bad:
        raise SystemExit(f"exported graph has ops outside the allowed set: {sorted(bad)}")
    dims = [[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in (m.graph.input[0], m.graph.output[0])]
    assert dims == [["batch", 97], ["batch", 96]], dims
    onnx.save(m, onnx_path)
    print(f"ONNX {onnx_path}: {len(m.graph.node)} nodes, ops {ops}, input {dims[0]}, output {dims[1]}")

    # verification pair: 8 rows of x_t (valid compositions noised at random t, incl. t = 0 and 999) and t
    sched = Schedule(1000)
    d = sd_data.load(log=lambda s: None, check_splits=False)
    rng = np.random.default_rng(7)
    xv = d["valid"][1]
    x0 = xv[rng.choice(len(xv), 8, replace=False)].astype(np.float64)
    t = np.array([0, 999] + list(rng.integers(0, 1000, 6)), dtype=np.int64)
    eps = rng.standard_normal((8, 96))
    ab = sched.alpha_bar[t][:, None]
    xt = np.sqrt(ab) * x0 + np.sqrt(1 - ab) * eps
    inp = np.concatenate([xt, t[:, None].astype(np.float64)], axis=1).astype(np.float32)
    with torch.no_grad():
        out = net(torch.from_numpy(inp)).numpy()
        big = torch.from_numpy(np.concatenate([inp, inp[::-1]] * 64))  # batch 1024, batch independence
        out_big = net(big).numpy()
    assert np.abs(out_big[:8] - out).max() < 1e-4, "batch-size dependence"
    onnx.save_tensor(numpy_helper.from_array(inp, "input"), os.path.join(RUNS, "verify_input.pb"))
    onnx.save_tensor(numpy_helper.from_array(out, "output"), os.path.join(RUNS, "verify_output.pb"))
    ref = run_numpy(m, inp)
    err = float(np.abs(ref - out).max())
    print(f"numpy evaluation of the tidied ONNX vs PyTorch: max |diff| {err:.3g} (output max |value| {np.abs(out).max():.3g})")
    assert err < 1e-3, err

    h = st["history"][-1]
    card = {
        "model": "SuperDiff-style denoiser (residual MLP)",
        "name": "superdiff-denoiser", "kind": "denoiser",
        "input": {"name": "input", "shape": ["batch", 97],
                  "columns": "0..95 = x_t (amounts of Z 1..96), 96 = timestep t (0..999) as float"},
        "output": {"name": "output", "shape": ["batch", 96], "meaning": "predicted noise epsilon"},
        "architecture": {"H": args["hidden"], "K": args["blocks"], **net.describe()},
        "diffusion": {"timesteps": 1000, "schedule": "cosine", "cosine_s": 0.008, "max_beta": 0.999,
                      "prediction": "epsilon", "time_input": "column 96 = integer timestep t (0-based) as float",
                      "vector": "amounts of Z 1..96 (H…Cm), not normalised",
                      "betas": "beta_i = min(1 - abar((i+1)/T)/abar(i/T), 0.999), abar(u) = cos((u+0.008)/1.008*pi/2)^2, float64"},
        "training": {
            "data_file": "supercon.csv", "sha256": ck["data"]["sha256"],
            "rows_policy": "Tc model's positives (training/train_tc.py): minus O7_unverified rows, one row per distinct "
                           "normalised composition; Tc element_division split (seed 20250): train rows trained on, "
                           "valid rows for the validation loss, test rows never used",
            "rows_used": {"train": ck["rows"]["train"], "valid": ck["rows"]["valid"]},
            "data_counts": ck["data"],
            "seed": args["seed"], "optimiser": "Adam", "lr": args["lr"],
            "lr_schedule": f"linear warm-up {args['warmup']} steps, cosine to 0 over the wall-clock budget",
            "batch": args["batch"], "grad_clip": 1.0, "ema_decay": args["ema"], "weights": "EMA",
            "loss": "MSE(eps_pred, eps), t uniform in 0..999",
            "epochs": st["epoch"], "steps": st["step"], "budget_minutes": args["minutes"],
            "wall_seconds": round(st["train_seconds"], 1), "threads": args["threads"],
            "final_train_loss": round(h["train_loss"], 6), "final_valid_loss_ema": round(h["valid_loss"], 6),
            "final_valid_loss_raw": round(st["final_raw_valid_loss"], 6) if "final_raw_valid_loss" in st else None,
            "valid_loss_definition": f"MSE over the {ck['rows']['valid']} valid rows x {args['valid_draws']} fixed (t, eps) draws",
            "loss_curve": "training/superdiff/loss_curve.csv"},
        "onnx": {"file": "superdiff-denoiser.onnx", "opset": 17, "sha256": sha256(onnx_path), "ops": ops},
        "verify": {"input": "verify_input.pb", "output": "verify_output.pb", "rows": 8,
                   "numpy_vs_torch_max_abs": err},
        "python": {"torch": torch.__version__, "onnx": onnx.__version__, "numpy": np.__version__,
                   "interpreter": sys.version.split()[0]},
        "exported_utc": f"{datetime.datetime.utcnow():%Y-%m-%dT%H:%M:%SZ}",
    }
    with open(os.path.join(HERE, "card.json"), "w") as f:
        json.dump(card, f, indent=2, ensure_ascii=False, allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.join(HERE, 'card.json')}, verify_input.pb / verify_output.pb")


if __name__ == "__main__":
    main()
