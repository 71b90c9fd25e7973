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
