#!/usr/bin/env python3
"""PyTorch peer for `dotnet run -c Release --project bench/Kiago.Bench -- token-model`: the BYO token transformer
(training/export_byo_fixtures.py's TokenTransformer, the fixture's weights, seed 35) at batch B, forward + gradient
w.r.t. the 118-fraction composition. The token featuriser runs inside the timing on both sides: here topk of the
8 largest fractions, put in order of Z, and a gather of the fractions (so the gradient lands on the composition).

    /usr/bin/python3 bench/peer/torch_tokens.py --threads 2 --batch 1024 --repeats 50

Prints the median ms of a forward alone and of forward + input backward.
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
from export_byo_fixtures import TokenTransformer, compositions, randomise  # noqa: E402


def featurise(x, count):
    values, columns = torch.topk(x, count, dim=1)  # the largest fractions (zeros fill rows with fewer elements)
    columns, order = torch.sort(columns, dim=1)
    values = torch.gather(values, 1, order)
    present = values > 0
    indices = torch.where(present, columns + 1, torch.zeros_like(columns))
    fractions = torch.where(present, torch.gather(x, 1, columns), torch.zeros_like(values))
    return indices, fractions


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=50)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    model = randomise(TokenTransformer(), 35)
    for q in model.parameters():
        q.requires_grad_(False)
    x = compositions(a.batch, 7).float()

    def forward():
        with torch.no_grad():
            model(*featurise(x, TokenTransformer.TOKENS))

    def forward_backward():
        xr = x.clone().requires_grad_(True)
        y = model(*featurise(xr, TokenTransformer.TOKENS))
        (g,) = torch.autograd.grad(y.sum(), xr)
        return g

    print(f"torch {torch.__version__}, {a.threads} threads, batch {a.batch}")
    print(f"forward           {median_ms(forward, a.repeats):8.2f} ms")
    print(f"forward+backward  {median_ms(forward_backward, a.repeats):8.2f} ms")


if __name__ == "__main__":
    main()
