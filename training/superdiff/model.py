"""SuperDiff-style denoiser as a residual MLP (SuperDiff itself uses lucidrains' Unet1D, dim 48).

Denoiser.forward(inp): inp [B, 97] float32, columns 0..95 = x_t (amounts of Z 1..96), column 96 = the integer
timestep t (0..999) as float. Returns [B, 96], the predicted noise epsilon.

Written so that the exported ONNX graph holds only Gemm, MatMul (constant operand), Add, Sub, Mul, Div, Sigmoid,
Sin, Cos, Concat, Slice, Gather and LayerNormalization: SiLU is x * sigmoid(x), the time embedding is
t [B,1] @ frequency row [1,64] (a constant), the two column blocks are plain slices.
"""
import math

import numpy as np
import torch
from torch import nn

N_Z = 96
ALLOWED_OPS = {"Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Sigmoid", "Sin", "Cos", "Concat", "Slice",
               "Gather", "LayerNormalization"}


def silu(x):
    return x * torch.sigmoid(x)


class Block(nn.Module):
    """h + Linear2(SiLU(Linear1(SiLU(LayerNorm(h))) + Proj(temb)))."""

    def __init__(self, hidden, temb):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        self.temb = nn.Linear(temb, hidden)
        self.fc2 = nn.Linear(hidden, hidden)

    def forward(self, h, temb):
        u = self.fc1(silu(self.norm(h))) + self.temb(temb)
        return h + self.fc2(silu(u))


class Denoiser(nn.Module):
    def __init__(self, hidden=256, blocks=4, temb=128, freqs=64):
        super().__init__()
        self.hidden, self.n_blocks, self.temb_width, self.n_freqs = hidden, blocks, temb, freqs
        # improved-diffusion timestep_embedding frequencies: exp(-ln(10000) * i / half), i = 0..half-1
        f = np.exp(-math.log(10000.0) * np.arange(freqs, dtype=np.float64) / freqs).astype(np.float32)
        self.register_buffer("freq", torch.from_numpy(f).reshape(1, freqs))
        self.t1 = nn.Linear(2 * freqs, temb)
        self.t2 = nn.Linear(temb, temb)
        self.inp = nn.Linear(N_Z, hidden)
        self.blocks = nn.ModuleList([Block(hidden, temb) for _ in range(blocks)])
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, N_Z)
        nn.init.zeros_(self.out.weight)  # start as eps = 0 (stable start, as improved-diffusion zeroes its output)
        nn.init.zeros_(self.out.bias)

    def forward(self, inp):
        x = inp[:, :96]
        t = inp[:, 96:97]
        a = torch.matmul(t, self.freq)  # [B, 64]
        e = torch.cat([torch.sin(a), torch.cos(a)], dim=1)  # [B, 128]
        temb = self.t2(silu(self.t1(e)))
        h = self.inp(x)
        for b in self.blocks:
            h = b(h, temb)
        return self.out(silu(self.norm(h)))

    def describe(self):
        return {"hidden": self.hidden, "blocks": self.n_blocks, "time_embedding_width": self.temb_width,
                "sinusoid_frequencies": self.n_freqs, "params": sum(p.numel() for p in self.parameters()),
                "layout": "t [B,1] @ freq [1,64] -> [sin, cos] -> Linear 128->T -> SiLU -> Linear T->T = temb; "
                          "h = Linear 96->H (x_t); K x [h = h + Linear H->H(SiLU(Linear H->H(SiLU(LayerNorm h)) + "
                          "Linear T->H(temb)))]; out = Linear H->96(SiLU(LayerNorm h)); SiLU = x*sigmoid(x); "
                          "output layer zero-initialised"}


# --- diffusion schedule (improved-diffusion cosine), float64 ---------------------------------------------------
def cosine_betas(T=1000, s=0.008, max_beta=0.999):
    def ab(u):
        return math.cos((u + s) / (1 + s) * math.pi / 2) ** 2
    return np.array([min(1 - ab((i + 1) / T) / ab(i / T), max_beta) for i in range(T)], dtype=np.float64)


class Schedule:
    def __init__(self, T=1000):
        self.T = T
        self.betas = cosine_betas(T)
        self.alphas = 1.0 - self.betas
        self.alpha_bar = np.cumprod(self.alphas)
        # alpha_bar_{t-1} with alpha_bar_{-1} = 1
        self.alpha_bar_prev = np.concatenate([[1.0], self.alpha_bar[:-1]])
