"""PyTorch reference sampler for the SuperDiff-style denoiser (the speed peer of Kiago's C# sampler).

DDPM ancestral sampling of all N samples at once, x_T ~ N(0, I); per step k (timestep tau_k -> tau_{k-1}):
    eps = net([x, tau_k]);  mean = (x - beta_k / sqrt(1 - ab_k) * eps) / sqrt(1 - beta_k);  x = mean + sqrt(beta_k) * z
(z = 0 at the last step), then with ILVR (Choi et al. 2021, --ilvr-scale S > 0):
    y = sqrt(ab_{k-1}) * y0 + sqrt(1 - ab_{k-1}) * eps',   x <- x - phi_S(x) + phi_S(y)
with ab_{-1} = 1 (the last step conditions on y0 itself) and phi_S = average-pool by S, repeat each value S times.
With --steps S < 1000 the schedule is respaced as Kiago's DiffusionSchedule does: tau_k = round(k*999/(S-1)),
beta_k = 1 - ab_{tau_k} / ab_{tau_{k-1}}; with S = 1000 this is plain DDPM (beta_k = beta_t).

Usage (from the repository root):
    /usr/bin/python3 training/superdiff/sample_torch.py --samples 4096 --steps 1000 --base Ba2Cu3O7Y1 --ilvr-scale 4 --threads 2
--ilvr-scale also takes a list (e.g. 1,2,4,6): the samples are split among the scales in equal consecutive blocks,
as Kiago's SuperDiffOptions.ScaleOf does. Prints the wall time of the sampling loop (model load excluded) to stderr;
writes the samples (96 columns, amounts of H..Cm) to --out.
"""
import argparse
import csv
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

sys.path.insert(0, os.path.dirname(HERE))
import kiago_common as kc  # noqa: E402

L = 96


def low_pass_matrix(scale):
    """phi_S as a [96, 96] matrix (phi(v) = v @ P); a last block shorter than S averages what it has."""
    p = np.zeros((L, L), dtype=np.float32)
    for s in range(0, L, scale):
        n = min(scale, L - s)
        p[s:s + n, s:s + n] = 1.0 / n
    return torch.from_numpy(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--base", default=None, help="ILVR reference formula, e.g. Ba2Cu3O7Y1")
    ap.add_argument("--ilvr-scale", default="0", help="S (0 = unconditional) or a comma list of scales")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "runs", "last.pt"), help="EMA weights are used")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "samples_torch.csv"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    scales = [int(s) for s in args.ilvr_scale.split(",")]
    if any(s < 0 or s > L for s in scales):
        raise SystemExit("--ilvr-scale: expected 0..96")
    if len(scales) > 1 and 0 in scales:
        raise SystemExit("--ilvr-scale: 0 (unconditional) cannot be mixed with scales")
    ilvr = scales != [0]
    el = kc.Elements(sd_data.DATA_DIR)
    if ilvr:
        if not args.base:
            raise SystemExit("--ilvr-scale > 0 needs --base FORMULA")
        y0 = torch.from_numpy(sd_data.amounts_vector(el, args.base).astype(np.float32))[None, :]

    ck = torch.load(args.checkpoint)
    net = Denoiser(ck["args"]["hidden"], ck["args"]["blocks"])
    net.load_state_dict(ck["ema"])
    net.eval()

    T = 1000
    sched = Schedule(T)
    S = args.steps
    if not 1 <= S <= T:
        raise SystemExit(f"--steps: expected 1..{T}")
    tau = [T - 1] if S == 1 else [int(math.floor(k * (T - 1.0) / (S - 1) + 0.5)) for k in range(S)]
    ab = [sched.alpha_bar[t] for t in tau]
    n = args.samples
    # sample i gets scales[i * len(scales) // n]: equal consecutive blocks
    blocks = []
    if ilvr:
        owner = [i * len(scales) // n for i in range(n)]
        for j, s in enumerate(scales):
            rows = [i for i in range(n) if owner[i] == j]
            if rows:
                blocks.append((rows[0], rows[-1] + 1, s, low_pass_matrix(s) if L % s else None))

    def low_pass_shift(d, s, p):
        """phi_S(d) for d [m, 96]."""
        if p is not None:
            return d @ p
        m = d.shape[0]
        return d.view(m, L // s, s).mean(dim=2, keepdim=True).expand(m, L // s, s).reshape(m, L)

    gen = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        start = time.perf_counter()
        x = torch.randn(n, L, generator=gen)
        inp = torch.empty(n, L + 1)
        for k in range(S - 1, -1, -1):
            a_k = ab[k]
            a_prev = ab[k - 1] if k > 0 else 1.0
            beta = 1.0 - a_k / a_prev
            inp[:, :L] = x
            inp[:, L] = float(tau[k])
            eps = net(inp)
            x = (x - (beta / math.sqrt(1.0 - a_k)) * eps) * (1.0 / math.sqrt(1.0 - beta))
            if k > 0:
                x.add_(torch.randn(n, L, generator=gen), alpha=math.sqrt(beta))
            if ilvr:
                y = math.sqrt(a_prev) * y0
                if k > 0:
                    y = y + math.sqrt(1.0 - a_prev) * torch.randn(n, L, generator=gen)
                else:
                    y = y.expand(n, L)
                for lo, hi, s, p in blocks:
                    x[lo:hi] += low_pass_shift(y[lo:hi] - x[lo:hi], s, p)
        elapsed = time.perf_counter() - start
    print(f"sampling loop: {n} samples x {S} steps, ILVR scale(s) {args.ilvr_scale}, {args.threads} thread(s): "
          f"{elapsed:.2f} s ({elapsed / S * 1000:.1f} ms/step)", file=sys.stderr)
    xs = x.numpy()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(el.symbols[:L])
        for row in xs:
            w.writerow([f"{v:.5g}" for v in row])
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
