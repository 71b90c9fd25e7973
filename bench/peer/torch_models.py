#!/usr/bin/env python3
"""PyTorch peer for `kiago bench`: the same GEMMs, ResNet18 stages, ResNet18 and ElemNet, forward + gradient
w.r.t. the input, random weights, fp32 on CPU. The networks are training/kiago_models.py's (the one Python copy),
with BatchNorm folded away (convs carry a bias), as in our engine.

    /usr/bin/python3 bench/peer/torch_models.py --threads 2 --batch 256,1024

GFLOP/s count dense FLOPs (padding taps included): fwd+bwd(input) = 2 x forward, as `kiago bench` does.
"""
import argparse
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


# the one copy of the architectures in Python: training/kiago_models.py (it makes the shipped weights)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
from kiago_models import ElemNet, TcResNet18  # noqa: E402


def fold(conv, bn):
    """conv + BatchNorm (eval) as one conv with a bias, as our import folds it."""
    return fuse_conv_bn_eval(conv.eval(), bn.eval())


class FoldedBlock(nn.Module):
    """training's BasicBlock with BatchNorm folded into the convs."""

    def __init__(self, block):
        super().__init__()
        self.c1 = fold(block.conv1, block.bn1)
        self.c2 = fold(block.conv2, block.bn2)
        self.down = None if block.downsample is None else fold(block.downsample[0], block.downsample[1])

    def forward(self, x):
        s = x if self.down is None else self.down(x)
        return torch.relu(self.c2(torch.relu(self.c1(x))) + s)


class Stem(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.conv = fold(net.conv1, net.bn1)
        self.pool = net.maxpool

    def forward(self, x):
        return self.pool(torch.relu(self.conv(x)))


class Head(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.fc = net.fc

    def forward(self, x):
        return torch.relu(self.fc(x.mean(dim=(2, 3))))


def resnet18_stages():
    """training's TcResNet18 (4 channels in), BatchNorm folded, cut into the stages `kiago bench` times."""
    net = TcResNet18().eval()
    stages = [("stem conv7x7/2 + maxpool", Stem(net))]
    c = 64
    for i, layer in enumerate([net.layer1, net.layer2, net.layer3, net.layer4]):
        w = layer[0].conv1.out_channels
        stages.append((f"layer{i + 1} {c}->{w}", nn.Sequential(FoldedBlock(layer[0]), FoldedBlock(layer[1]))))
        c = w
    stages.append(("head gap + fc 512->1", Head(net)))
    return stages


def elemnet():
    """training's ElemNet in eval mode (its dropout is the identity there, as in inference)."""
    return ElemNet().eval()


def dense_macs(model, x):
    """Forward multiply-accumulates counted with hooks (convs: all taps incl. padding; linears)."""
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            total[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            total[0] += out.numel() * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return total[0] // x.shape[0]


def timed(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0], times[len(times) // 2]


def bench_model(name, model, shape, batch, repeats):
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.rand(batch, *shape) * 2 - 1
    macs = dense_macs(model, x[:1])

    def step():
        xi = x.clone().requires_grad_(True)
        y = model(xi)
        (g,) = torch.autograd.grad(y.sum(), xi)
        return g

    best, median = timed(step, repeats)
    flops = 4.0 * macs * batch
    print(f"{name} fwd+bwd(input) batch {batch}: best {best * 1e3 / batch:.4f} ms/sample "
          f"({flops / best / 1e9:.1f} GFLOP/s), median {median * 1e3 / batch:.4f} ms/sample, step {median * 1e3:.1f} ms",
          flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", default="256,1024")
    ap.add_argument("--only", default="all", choices=["gemm", "stages", "resnet", "elemnet", "all"])
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    batches = [int(b) for b in a.batch.split(",")]
    with open("/proc/loadavg") as f:
        load = f.read().strip()
    print(f"device: torch {torch.__version__} cpu, {torch.get_num_threads()} threads")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, load: {load}")
    if a.only in ("gemm", "all"):
        for m, n, k in [(4096, 512, 576), (65536, 64, 576)]:
            A, B = torch.rand(m, k), torch.rand(k, n)
            best, median = timed(lambda: torch.matmul(A, B), a.repeats)
            f = 2.0 * m * n * k
            print(f"gemm {m}x{n}x{k}: best {best * 1e3:.2f} ms ({f / best / 1e9:.1f} GFLOP/s), "
                  f"median {median * 1e3:.2f} ms ({f / median / 1e9:.1f} GFLOP/s)", flush=True)
    if a.only in ("stages", "all"):
        shape = (4, 7, 32)
        for name, stage in resnet18_stages():
            bench_model(f"resnet18 {name}", stage, shape, 1024, a.repeats)
            with torch.no_grad():
                shape = tuple(stage(torch.zeros(1, *shape)).shape[1:])
            if len(shape) < 3:
                break
    if a.only in ("resnet", "all"):
        net = nn.Sequential(*[m for _, m in resnet18_stages()])
        for b in batches:
            bench_model("resnet18 4x7x32", net, (4, 7, 32), b, a.repeats)
    if a.only in ("elemnet", "all"):
        net = elemnet()
        for b in batches:
            bench_model("elemnet 86", net, (86,), b, a.repeats)


if __name__ == "__main__":
    main()
