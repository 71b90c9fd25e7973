"""The two networks, built by hand so that no torchvision is needed (kiago-reference §3.1 and §4)."""
import torch
import torch.nn as nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TcResNet18(nn.Module):
    """torchvision resnet18 layout; conv1 4->64 7x7/2 pad 3; fc 512->1; final ReLU. Input [B,4,7,32], output [B,1] kelvin."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1)
        # torchvision's initialisation
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return torch.relu(self.fc(x))


# "1024x4D-512x3D-256x3D-128x3D-64x2-32x1-1"; drop rates from keep-probs [0.8, 0.9, 0.7, 0.8].
ELEMNET_BLOCKS = [(1024, 4, 0.2), (512, 3, 0.1), (256, 3, 0.3), (128, 3, 0.2), (64, 2, None), (32, 1, None)]


class ElemNet(nn.Module):
    """86 -> ... -> 1, eV/atom. Input [B,86] (kiago-reference §4 order), output [B,1]."""

    def __init__(self):
        super().__init__()
        layers, cin = [], 86
        for width, count, drop in ELEMNET_BLOCKS:
            for _ in range(count):
                layers += [nn.Linear(cin, width), nn.ReLU()]
                cin = width
            if drop is not None:
                layers.append(nn.Dropout(drop))
        layers.append(nn.Linear(cin, 1))
        self.net = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=2 ** 0.5)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.net(x)


class TokenAttentionLayer(nn.Module):
    """Pre-norm self-attention over element tokens, keys weighted by their fractions (Roost): an empty slot (fraction
    0) weighs nothing, so padding needs no mask; then a GELU feed-forward. Every op is one Kiago imports (MODELS.md)."""

    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.f1, self.f2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, h, w):
        b, t, d = h.shape
        x = self.n1(h)

        def split(z):
            return z.reshape(b, t, self.heads, self.dh).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        a = torch.softmax(q @ k.transpose(-1, -2) * (self.dh ** -0.5), -1) * w[:, None, None, :]
        a = a / a.sum(-1, keepdim=True)
        o = (a @ v).transpose(1, 2).reshape(b, t, d)
        h = h + self.drop(self.o(o))
        return h + self.drop(self.f2(nn.functional.gelu(self.f1(self.n2(h)))))


class TokenNet(nn.Module):
    """A composition as up to T element tokens (Kiago's token rule: the T largest fractions, in order of Z; empty slots
    index 0, fraction 0): embedding of Z + an MLP encoding of the fraction, attention layers, fraction-weighted mean
    pooling, an MLP head; times `scale` (the target's unit); optional final ReLU (Tc >= 0).
    Inputs indices (B, T) int64 and fractions (B, T); output (B, 1)."""

    def __init__(self, d=64, heads=4, layers=3, ff=128, dropout=0.1, scale=1.0, relu=False):
        super().__init__()
        self.embed = nn.Embedding(119, d)
        self.frac1, self.frac2 = nn.Linear(1, d), nn.Linear(d, d)
        self.layers = nn.ModuleList(TokenAttentionLayer(d, heads, ff, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d)
        self.h1, self.h2 = nn.Linear(d, d), nn.Linear(d, 1)
        self.scale, self.relu = scale, relu

    def forward(self, indices, fractions):
        f = fractions.unsqueeze(-1)
        h = self.embed(indices) + self.frac2(nn.functional.gelu(self.frac1(f)))
        for layer in self.layers:
            h = layer(h, fractions)
        pooled = (self.norm(h) * f).sum(1)
        y = self.h2(nn.functional.gelu(self.h1(pooled))) * self.scale
        return torch.relu(y) if self.relu else y
