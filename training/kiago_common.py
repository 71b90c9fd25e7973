"""Shared pieces of the Kiago training scripts: formula parsing, the 118-vector, the 4x7x32
periodic-table image (exactly as the C# engine builds it), data loading, splits and model cards.
Never needed at run time; the C# engine re-implements the featurisers."""
import csv
import hashlib
import math
import os
import re

import numpy as np

DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))
if not os.path.isdir(DEFAULT_DATA):
    DEFAULT_DATA = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared", "data"))

N_ELEMENTS = 118
IMAGE_SHAPE = (4, 7, 32)
CHANNEL_OF_BLOCK = {"s": 0, "p": 1, "d": 2, "f": 3}
TOKEN = re.compile(r"([A-Z][a-z]?)(\d+(?:\.\d+)?)?")
FORMULA = re.compile(r"^([A-Z][a-z]?(\d+(\.\d+)?)?)+$")

# kiago-reference §4: ElemNet's 86 inputs are these 0-based indices of the 118-vector, ascending.
ELEMNET_INDICES = [0] + list(range(2, 9)) + list(range(10, 17)) + list(range(18, 83)) + list(range(88, 94))
assert len(ELEMNET_INDICES) == 86


class Elements:
    """Reads elements.csv: symbol -> Z, and the pt32 image positions."""

    def __init__(self, data_dir=DEFAULT_DATA):
        self.symbols = []
        self.position = []  # (channel, row, col) per Z-1
        with open(os.path.join(data_dir, "elements.csv"), newline="") as f:
            for row in csv.DictReader(f):
                z = int(row["Z"])
                assert z == len(self.symbols) + 1, "elements.csv must list Z = 1..118 in order"
                self.symbols.append(row["symbol"])
                self.position.append((CHANNEL_OF_BLOCK[row["pt32_channel"]], int(row["pt32_row"]), int(row["pt32_col"])))
        assert len(self.symbols) == N_ELEMENTS
        self.index = {s: i for i, s in enumerate(self.symbols)}
        # The atom map as a 118 x 896 matrix: image = x @ M (kiago-reference §2.1, one 1.0 flag per element).
        m = np.zeros((N_ELEMENTS,) + IMAGE_SHAPE, dtype=np.float32)
        for i, (c, r, col) in enumerate(self.position):
            m[i, c, r, col] = 1.0
        assert (m.reshape(N_ELEMENTS, -1).sum(axis=0) <= 1).all(), "two elements share an image cell"
        self.atom_map = m

    def parse(self, formula):
        """Formula -> dict symbol -> amount (repeated symbols are summed; the shared CSVs have none)."""
        if not FORMULA.match(formula):
            raise ValueError(f"formula {formula!r} does not match symbol+optional number")
        amounts = {}
        for sym, num in TOKEN.findall(formula):
            if sym not in self.index:
                raise ValueError(f"formula {formula!r}: unknown element {sym!r}")
            amounts[sym] = amounts.get(sym, 0.0) + (float(num) if num else 1.0)
        return amounts

    def vector(self, formula):
        """Formula -> normalised 118-vector of atom fractions (float64)."""
        amounts = self.parse(formula)
        total = sum(amounts.values())
        if total <= 0:
            raise ValueError(f"formula {formula!r} has zero total amount")
        v = np.zeros(N_ELEMENTS, dtype=np.float64)
        for sym, a in amounts.items():
            v[self.index[sym]] = a / total
        return v

    def image(self, vectors):
        """(N,118) fractions -> (N,4,7,32) image."""
        v = np.asarray(vectors, dtype=np.float32).reshape(-1, N_ELEMENTS)
        return (v @ self.atom_map.reshape(N_ELEMENTS, -1)).reshape((-1,) + IMAGE_SHAPE)


def composition_key(v):
    """Normalised composition rounded to 5 decimals (reference §3.2 step 8)."""
    nz = np.nonzero(v)[0]
    return tuple((int(i), round(float(v[i]), 5)) for i in nz)


def element_set(v):
    return tuple(int(i) for i in np.nonzero(v)[0])


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def element_frequencies(x):
    """Fraction of rows containing each of the 118 elements."""
    return [round(float(f), 6) for f in (np.asarray(x) > 0).mean(axis=0)]


def split_groups(groups, seed, valid_ratio, test_ratio):
    """Shuffle the unique group keys with a fixed seed; first valid_ratio -> valid, next test_ratio -> test."""
    unique = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(unique))
    n_valid = int(round(len(unique) * valid_ratio))
    n_test = int(round(len(unique) * test_ratio))
    which = {}
    for rank, k in enumerate(order):
        which[unique[k]] = "valid" if rank < n_valid else ("test" if rank < n_valid + n_test else "train")
    return np.array([which[g] for g in groups])


def regression_metrics(pred, target):
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    err = pred - target
    mae = float(np.abs(err).mean())
    rmse = float(math.sqrt((err ** 2).mean()))
    ss_tot = float(((target - target.mean()) ** 2).sum())
    r2 = float(1.0 - (err ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan")
    return {"n": int(len(target)), "mae": mae, "rmse": rmse, "r2": r2}
