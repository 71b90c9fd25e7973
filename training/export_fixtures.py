"""Exports the ONNX models and reference arrays Kiago's Nets tests and parity checks use.

    /usr/bin/python3 training/export_fixtures.py            # small fixtures -> tests/Kiago.Tests/Nets/Fixtures
    /usr/bin/python3 training/export_fixtures.py --full     # + random ResNet18 / ElemNet -> training/exports

Random weights (seeded); BatchNorm running statistics are randomised so that folding them is exercised.
References: y = model(featurise(x)) and dy/dx = d(sum y)/dx for compositions x (B, 118), in float64 from the
float32 weights (so the reference has no float32 rounding of its own). The ResNet's fc bias is shifted so that its
final ReLU is open on the test compositions, and compositions where some ReLU input is within 1e-5 of 0 are skipped
(there the ReLU mask, hence the gradient, depends on float32 summation order: no implementation can match them).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kiago_features import composition_to_image, composition_to_elemnet  # noqa: E402
from kiago_models import BasicBlock  # noqa: E402  (the training networks' block: same layout as torchvision)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "Kiago.Tests", "Nets", "Fixtures")
EXPORTS = os.path.join(ROOT, "training", "exports")


class ResNet(nn.Module):
    """torchvision ResNet (BasicBlock) with KIAGO's changes: conv1 4->w 7x7/2 pad 3, fc -> 1, final ReLU."""

    def __init__(self, layers, widths, view_flatten=False):
        super().__init__()
        self.conv1 = nn.Conv2d(4, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = widths[0]
        stages = []
        for i, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for j in range(n):
                blocks.append(BasicBlock(cin, w, 2 if (i > 0 and j == 0) else 1))
                cin = w
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3, self.layer4 = (stages + [nn.Identity()] * 4)[:4]
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, 1)
        self.view_flatten = view_flatten

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        # view(size(0), -1) exports as a Shape/Gather/Unsqueeze/Concat/Reshape chain; flatten as Flatten.
        x = x.view(x.size(0), -1) if self.view_flatten else torch.flatten(x, 1)
        return F.relu(self.fc(x))


class ElemNet(nn.Module):
    """ElemNet as KIAGO's src/elemnet.py: Linear+ReLU stacks with Dropout after blocks, output (B,)."""

    def __init__(self, arch, n_in=86):
        super().__init__()
        layers = []
        cin = n_in
        for width, count, dropout in arch:
            for _ in range(count):
                layers += [nn.Linear(cin, width), nn.ReLU()]
                cin = width
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(cin, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).view(-1)


ELEMNET_ARCH = [(1024, 4, 0.2), (512, 3, 0.1), (256, 3, 0.3), (128, 3, 0.2), (64, 2, 0), (32, 1, 0)]
TINY_MLP_ARCH = [(32, 2, 0.2), (16, 1, 0)]


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.weight.copy_(1 + 0.2 * torch.randn(c, generator=g))
                m.bias.copy_(0.1 * torch.randn(c, generator=g))
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
    return model.eval()


def compositions(batch, seed, allowed):
    """Random compositions: 2-6 elements from `allowed`, plus one element outside it in odd rows."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(batch, 118, dtype=torch.float64)
    outside = [i for i in range(118) if i not in set(allowed)]
    for b in range(batch):
        k = int(torch.randint(2, 7, (1,), generator=g))
        idx = torch.tensor(allowed)[torch.randperm(len(allowed), generator=g)[:k]]
        x[b, idx] = torch.rand(k, generator=g, dtype=torch.float64) + 0.1
        if b % 2 == 1 and outside:
            x[b, outside[int(torch.randint(len(outside), (1,), generator=g))]] = 0.3
        x[b] /= x[b].sum()
    return x


def relu_margins(model, featurise, x):
    """Per row, the smallest |input| of any ReLU (float64). Where it is ~1e-7, float32 summation order decides the
    ReLU mask and so the input gradient: such rows are ill-conditioned test points and are not used."""
    m64 = model.double()
    margins = torch.full((x.shape[0],), float("inf"), dtype=torch.float64)

    def hook(_module, inputs):  # a pre-hook: the ReLUs are in-place
        nonlocal margins
        margins = torch.minimum(margins, inputs[0].detach().abs().reshape(x.shape[0], -1).min(dim=1).values)

    handles = [m.register_forward_pre_hook(hook) for m in m64.modules() if isinstance(m, nn.ReLU)]
    with torch.no_grad():
        z = m64(featurise(x))
        if isinstance(model, ResNet):  # the final F.relu acts on the fc output
            margins = torch.minimum(margins, z.abs().reshape(-1))
    for h in handles:
        h.remove()
    model.float()
    return margins


def open_final_relu(model, featurise, x):
    """Shifts fc.bias so that every fc output on x is >= 0.5: the final ReLU is open and the gradient is not zero."""
    with torch.no_grad():
        m64 = model.double()
        captured = {}
        handle = m64.fc.register_forward_hook(lambda _m, _i, out: captured.__setitem__("z", out))
        m64(featurise(x))
        handle.remove()
        z = captured["z"]
        model.float()
        model.fc.bias += max(0.0, 0.5 - z.min().item())


def well_conditioned(model, featurise, x, batch, margin=1e-5):
    keep = relu_margins(model, featurise, x) >= margin
    chosen = x[keep][:batch]
    assert chosen.shape[0] == batch, f"only {chosen.shape[0]} of {x.shape[0]} compositions have ReLU margin >= {margin}"
    return chosen


def reference(model, featurise, x):
    m64 = model.double()
    x = x.clone().requires_grad_(True)
    y = m64(featurise(x)).reshape(x.shape[0])
    (dx,) = torch.autograd.grad(y.sum(), x)
    model.float()
    return y.detach(), dx.detach()


def export(model, example, path, fold, opset):
    torch.onnx.export(model, example, path, opset_version=opset, do_constant_folding=fold,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def case(name, model, featurise, example, x, folder, opsets=((13, True),)):
    batch = x.shape[0] // 2
    if isinstance(model, ResNet):
        open_final_relu(model, featurise, x)
    x = well_conditioned(model, featurise, x, batch)
    files = []
    for opset, fold in opsets:
        suffix = "" if fold else "_nofold"
        fname = f"{name}{suffix}_op{opset}.onnx"
        export(model, example, os.path.join(folder, fname), fold, opset)
        files.append(fname)
    y, dx = reference(model, featurise, x)
    return {"onnx": files, "x": x.tolist(), "y": y.tolist(), "dydx": dx.tolist()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true", help="also export random full-size ResNet18 and ElemNet")
    args = ap.parse_args()
    torch.manual_seed(0)
    from kiago_features import ELEMNET_INDICES
    all_elements = list(range(118))

    os.makedirs(FIXTURES, exist_ok=True)
    tiny_resnet = randomise(ResNet([1, 1], [8, 16], view_flatten=True), 1)
    tiny_mlp = randomise(ElemNet(TINY_MLP_ARCH), 2)
    both = ((13, True), (13, False), (17, True))
    ref = {
        "tiny_resnet": case("tiny_resnet", tiny_resnet, composition_to_image, torch.zeros(2, 4, 7, 32),
                            compositions(12, 10, all_elements), FIXTURES, both),
        "tiny_mlp": case("tiny_mlp", tiny_mlp, composition_to_elemnet, torch.zeros(2, 86),
                         compositions(12, 11, ELEMNET_INDICES), FIXTURES, both),
    }
    with open(os.path.join(FIXTURES, "reference.json"), "w") as f:
        json.dump({"generator": "training/export_fixtures.py", "torch": torch.__version__, "cases": ref}, f)

    if args.full:
        os.makedirs(EXPORTS, exist_ok=True)
        resnet18 = randomise(ResNet([2, 2, 2, 2], [64, 128, 256, 512]), 3)
        elemnet = randomise(ElemNet(ELEMNET_ARCH), 4)
        full = {
            "resnet18": case("resnet18", resnet18, composition_to_image, torch.zeros(2, 4, 7, 32),
                             compositions(128, 20, all_elements), EXPORTS, ((13, True), (13, False))),
            "elemnet": case("elemnet", elemnet, composition_to_elemnet, torch.zeros(2, 86),
                            compositions(128, 21, ELEMNET_INDICES), EXPORTS, ((13, True), (13, False))),
        }
        with open(os.path.join(EXPORTS, "reference.json"), "w") as f:
            json.dump({"generator": "training/export_fixtures.py --full", "torch": torch.__version__, "cases": full}, f)


if __name__ == "__main__":
    main()
