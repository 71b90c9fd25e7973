"""Exports the "bring your own predictor" fixtures: small PyTorch models of the kinds users bring, with random weights
(seeded), as ONNX files plus float64 references of the output and its input gradient.

    /usr/bin/python3 training/export_byo_fixtures.py     # -> tests/Kiago.Tests/Nets/Fixtures/byo

Cases (all on the 118 atom fractions, output (B,)):
  mlp118      Linear-ReLU-Linear-ReLU-Linear with a `y * std + mean` head (the everyday regression head)
  mlp118_norm Linear-LayerNorm-SiLU-Linear-Sigmoid-Linear with the same head; opset 13 writes LayerNorm decomposed
              (ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add), opset 17 as LayerNormalization
  mlp118_gelu Linear-GELU(erf)-Linear-GELU(tanh approximation)-Linear with the same head (Erf, Pow, Tanh, Mul)
  heads118    Linear-BatchNorm1d(eval)-Tanh-Dropout(eval)-Linear(6), then Softmax/LogSoftmax, Slice, ReduceSum/ReduceMax/ReduceMean over the last axis,
              combined and picked with a scalar Gather (a classifier-style model)

  tokens8     a small transformer over element tokens (CrabNet/Roost-style): inputs indices (int64) and fractions, both
              (B, 8); embedding + fraction encoding, 2 pre-norm attention layers (2 heads, Softmax, then Roost's weighting
              of each key by its fraction, so empty slots weigh nothing), GELU feed-forward, fraction-weighted mean pooling,
              the same head. Tokens are built as Kiago's featuriser builds them (the 8 largest fractions, in order of Z).

Test compositions are 2-6 random elements (tokens8 also gets rows of 9-12, where the featuriser keeps the 8 largest); rows where some ReLU input is within 1e-5 of 0 are skipped (there the
float32 summation order decides the gradient).
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOLDER = os.path.join(ROOT, "tests", "Kiago.Tests", "Nets", "Fixtures", "byo")
STD, MEAN = 12.5, 30.0  # a target scaler as a user's training script would fold into the export


class Mlp118(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(118, 32), nn.Linear(32, 16), nn.Linear(16, 1)

    def forward(self, x):
        h = F.relu(self.l2(F.relu(self.l1(x))))
        return (self.l3(h) * STD + MEAN).view(-1)


class Mlp118Norm(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.norm, self.l2, self.l3 = nn.Linear(118, 32), nn.LayerNorm(32), nn.Linear(32, 16), nn.Linear(16, 1)

    def forward(self, x):
        h = torch.sigmoid(self.l2(F.silu(self.norm(self.l1(x)))))
        return (self.l3(h) * STD + MEAN).view(-1)


class Mlp118Gelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.l2, self.l3 = nn.Linear(118, 24), nn.Linear(24, 12), nn.Linear(12, 1)

    def forward(self, x):
        h = F.gelu(self.l2(F.gelu(self.l1(x))), approximate="tanh")
        return (self.l3(h) * STD + MEAN).view(-1)


class Heads118(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1, self.bn, self.drop, self.l2 = nn.Linear(118, 16), nn.BatchNorm1d(16), nn.Dropout(0.3), nn.Linear(16, 6)

    def forward(self, x):
        z = self.l2(self.drop(torch.tanh(self.bn(self.l1(x)))))
        p = torch.softmax(z, -1)[:, 1:2]
        q = torch.log_softmax(z, -1)[:, 2:5].sum(-1, keepdim=True)
        s = 30 * p + 5 * q + 2 * torch.amax(z, -1, keepdim=True) + z.mean(-1, keepdim=True)
        return s[:, 0]


class AttentionLayer(nn.Module):
    def __init__(self, d, heads, ff):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.f1, self.f2 = nn.Linear(d, ff), nn.Linear(ff, d)

    def forward(self, h, w):
        b, t, d = h.shape
        x = self.n1(h)

        def split(z):
            return z.reshape(b, t, self.heads, self.dh).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), -1) * w[:, None, None, :]
        a = a / a.sum(-1, keepdim=True)
        o = (a @ v).transpose(1, 2).reshape(b, t, d)
        h = h + self.o(o)
        return h + self.f2(F.gelu(self.f1(self.n2(h))))


class TokenTransformer(nn.Module):
    TOKENS = 8

    def __init__(self, d=32, heads=2, layers=2, ff=64):
        super().__init__()
        self.embed, self.frac = nn.Embedding(119, d), nn.Linear(1, d)
        self.layers = nn.ModuleList(AttentionLayer(d, heads, ff) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, 1)

    def forward(self, indices, fractions):
        h = self.embed(indices) + self.frac(fractions.unsqueeze(-1))
        for layer in self.layers:
            h = layer(h, fractions)
        pooled = (self.norm(h) * fractions.unsqueeze(-1)).sum(1)
        return (self.head(pooled) * STD + MEAN).view(-1)


def tokens(x, count):
    """Kiago's token rule: the `count` largest positive fractions (ties: lower Z), in order of Z; empty slots 0 and 0."""
    b = x.shape[0]
    idx = torch.zeros(b, count, dtype=torch.long)
    frac = torch.zeros(b, count, dtype=x.dtype)
    columns = torch.zeros(b, count, dtype=torch.long) - 1
    for r in range(b):
        positive = [c for c in range(x.shape[1]) if x[r, c] > 0]
        kept = sorted(sorted(positive, key=lambda c: (-float(x[r, c]), c))[:count])
        for s, c in enumerate(kept):
            idx[r, s], frac[r, s], columns[r, s] = c + 1, x[r, c], c
    return idx, frac, columns


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                # fractions are small and sparse: a larger first-layer scale keeps outputs and gradients non-trivial
                scale = 3.0 if m.in_features == 118 else (2.0 / m.in_features) ** 0.5
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * scale)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm1d):
                m.weight.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.num_features, generator=g))
                m.running_mean.copy_(0.3 * torch.randn(m.num_features, generator=g))
                m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g))
            elif isinstance(m, nn.Embedding):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
            elif isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
    return model.eval()


def compositions(batch, seed, most=6):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(batch, 118, dtype=torch.float64)
    for b in range(batch):
        k = int(torch.randint(2, most + 1, (1,), generator=g))
        idx = torch.randperm(118, generator=g)[:k]
        x[b, idx] = torch.rand(k, generator=g, dtype=torch.float64) + 0.1
        x[b] /= x[b].sum()
    return x


def relu_margin(model, x):
    """Per row, the smallest |input| of a ReLU (inf for models without one)."""
    margins = torch.full((x.shape[0],), float("inf"), dtype=torch.float64)
    if not isinstance(model, Mlp118):
        return margins
    m64 = model.double()
    seen = []
    handles = [layer.register_forward_hook(lambda _m, _i, out: seen.append(out.abs().min(dim=1).values)) for layer in (m64.l1, m64.l2)]
    with torch.no_grad():
        m64(x)
    for h in handles:
        h.remove()
    model.float()
    for s in seen:
        margins = torch.minimum(margins, s)
    return margins


def reference(model, x):
    m64 = model.double()
    x = x.clone().requires_grad_(True)
    if isinstance(model, TokenTransformer):
        idx, _, columns = tokens(x.detach(), TokenTransformer.TOKENS)
        # the fractions gathered from x, so the gradient lands on the composition's columns
        frac = torch.stack([torch.stack([x[r, c] if c >= 0 else x.new_zeros(()) for c in columns[r].tolist()]) for r in range(x.shape[0])])
        y = m64(idx, frac)
    else:
        y = m64(x)
    (dx,) = torch.autograd.grad(y.sum(), x)
    model.float()
    return y.detach(), dx.detach()


def export(model, path, opset):
    if isinstance(model, TokenTransformer):
        t = TokenTransformer.TOKENS
        torch.onnx.export(model, (torch.zeros(2, t, dtype=torch.long), torch.zeros(2, t)), path, opset_version=opset,
                          do_constant_folding=True, input_names=["indices", "fractions"], output_names=["output"],
                          dynamic_axes={"indices": {0: "batch"}, "fractions": {0: "batch"}, "output": {0: "batch"}})
        return
    torch.onnx.export(model, torch.zeros(2, 118), path, opset_version=opset, do_constant_folding=True,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def case(name, model, seed, opsets):
    x = compositions(24, seed)
    x = x[relu_margin(model, x) >= 1e-5][:8]
    assert x.shape[0] == 8
    if isinstance(model, TokenTransformer):
        # more elements than token slots: the featuriser keeps the 8 largest
        wide = compositions(24, seed + 100, most=12)
        wide = wide[(wide > 0).sum(1) > TokenTransformer.TOKENS][:4]
        assert wide.shape[0] == 4
        x = torch.cat([x, wide])
    files = []
    for opset in opsets:
        fname = f"{name}_op{opset}.onnx"
        export(model, os.path.join(FOLDER, fname), opset)
        files.append(fname)
    y, dx = reference(model, x)
    return {"onnx": files, "x": x.tolist(), "y": y.tolist(), "dydx": dx.tolist()}


def main():
    torch.manual_seed(0)
    os.makedirs(FOLDER, exist_ok=True)
    cases = {
        "mlp118": case("mlp118", randomise(Mlp118(), 31), 41, (13,)),
        "mlp118_norm": case("mlp118_norm", randomise(Mlp118Norm(), 32), 42, (13, 17)),
        "mlp118_gelu": case("mlp118_gelu", randomise(Mlp118Gelu(), 33), 43, (13,)),
        "heads118": case("heads118", randomise(Heads118(), 34), 44, (13,)),
        "tokens8": case("tokens8", randomise(TokenTransformer(), 35), 45, (13, 17)),
    }
    with open(os.path.join(FOLDER, "reference.json"), "w") as f:
        json.dump({"generator": "training/export_byo_fixtures.py", "torch": torch.__version__,
                   "std": STD, "mean": MEAN, "cases": cases}, f)


if __name__ == "__main__":
    main()
