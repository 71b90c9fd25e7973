"""Kiago's input featurisers in PyTorch: the exact layouts the C# code (src/Kiago.Nets/Featurisers) uses.

Training code must build its inputs with these functions so that a model trained in Python sees the same
image / vector that Kiago feeds it at run time. Cross-checked against ../shared/data/elements.csv (pt32_*)
by `python3 kiago_features.py`.
"""
import numpy as np
import torch

N_ELEMENTS = 118
IMAGE_SHAPE = (4, 7, 32)  # channels s, p, d, f x 7 periods x 32 columns
CHANNELS = "spdf"

# Period boundaries: last Z of each period.
_PERIOD_END = [2, 10, 18, 36, 54, 86, 118]


def pt32_cell(z):
    """(channel, row, col) of element Z in the 4x7x32 periodic-table image.

    Rule (Konno et al. 'reading periodic table' layout, as ../shared/data/elements.csv pt32_*):
    row = period - 1; groups 1-2 -> cols 0-1 (s); He -> col 31 (s channel); group 3 (Sc, Y, La, Ac) -> col 2 (d);
    Ce-Lu and Th-Lr -> cols 3-16 (f); groups 4-12 -> cols 17-25 (d); groups 13-18 -> cols 26-31 (p).
    """
    if not 1 <= z <= 118:
        raise ValueError(f"Z={z} outside 1..118")
    period = next(i for i, end in enumerate(_PERIOD_END) if z <= end) + 1
    row = period - 1
    if z == 1:
        return 0, 0, 0
    if z == 2:
        return 0, 0, 31
    start = _PERIOD_END[period - 2] + 1  # first Z of the period
    k = z - start  # 0-based position within the period
    if k < 2:
        return 0, row, k  # s block
    if period <= 3:
        return 1, row, 26 + (k - 2)  # B..Ne, Al..Ar
    if period <= 5:
        if k == 2:
            return 2, row, 2  # Sc, Y
        if k < 12:
            return 2, row, 17 + (k - 3)  # Ti..Zn, Zr..Cd
        return 1, row, 26 + (k - 12)  # Ga..Kr, In..Xe
    # periods 6 and 7: 32 elements, column = position in the period
    if k == 2:
        return 2, row, 2  # La, Ac
    if k <= 16:
        return 3, row, k  # Ce..Lu, Th..Lr
    if k <= 25:
        return 2, row, k  # Hf..Hg, Rf..Cn
    return 1, row, k  # Tl..Rn, Nh..Og


def atom_map():
    """M (118, 4, 7, 32) with one 1 per element: image = einsum('bi,ichw->bchw', x, M)."""
    m = torch.zeros(N_ELEMENTS, *IMAGE_SHAPE)
    for z in range(1, N_ELEMENTS + 1):
        c, r, col = pt32_cell(z)
        m[z - 1, c, r, col] = 1.0
    return m


def composition_to_image(x):
    """x (B, 118) atom fractions -> (B, 4, 7, 32)."""
    return torch.einsum("bi,ichw->bchw", x, atom_map().to(x.dtype).to(x.device))


# ElemNet's 86 inputs: H..Pu without He, Ne, Ar, Po, At, Rn, Fr, Ra (0-based indices into the 118-vector).
ELEMNET_INDICES = [0] + list(range(2, 9)) + list(range(10, 17)) + list(range(18, 83)) + list(range(88, 94))
assert len(ELEMNET_INDICES) == 86


def composition_to_elemnet(x):
    """x (B, 118) -> (B, 86) in ElemNet's order (elements outside the set are dropped)."""
    return x[:, ELEMNET_INDICES]


if __name__ == "__main__":
    import csv, os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "elements.csv")
    if not os.path.exists(path):
        path = "/work/shared/data/elements.csv"
    with open(path) as f:
        for row in csv.DictReader(f):
            z = int(row["Z"])
            want = ("spdf".index(row["pt32_channel"]), int(row["pt32_row"]), int(row["pt32_col"]))
            assert pt32_cell(z) == want, (z, pt32_cell(z), want)
    m = atom_map().reshape(118, -1)
    assert (m.sum(0) <= 1).all(), "two elements share a cell"
    print("pt32 layout matches", path)


def tokens(x118, count):
    """Kiago's token rule (src/Kiago.Kernels/TokenRule.cs), vectorised: per row the `count` largest positive fractions
    (ties: lower Z), in order of Z, as (Z, fraction); empty slots (0, 0) at the end. x118: (N, 118) -> int64, float32."""
    x118 = np.asarray(x118, dtype=np.float32)
    order = np.argsort(-x118, axis=1, kind="stable")[:, :count]  # stable: among equal values the lower Z first
    kept = np.take_along_axis(x118, order, 1) > 0
    cols = np.where(kept, order, 1 << 20)
    cols.sort(axis=1)
    kept = cols < (1 << 20)
    safe = np.where(kept, cols, 0)
    frac = np.where(kept, np.take_along_axis(x118, safe, 1), 0).astype(np.float32)
    return np.where(kept, safe + 1, 0).astype(np.int64), frac
