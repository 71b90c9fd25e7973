"""Writes tests/Kiago.Tests/Nets/Fixtures/featuriser_images.json: a few formulas -> the Python featurisers'
output (the 4x7x32 periodic-table image and ElemNet's 86-vector), for the C# featuriser test.
Usage: /usr/bin/python3 training/make_featuriser_fixture.py [--data ../shared/data]"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402

FORMULAS = ["Y1Ba2Cu3O7", "MgB2", "NaCl", "H3S", "Hg1Ba2Ca2Cu3O8", "Mo99.962Co0.038",
            "La1Ce1Lu1Ac1Th1Lr1", "He1Og1Fr1Ra1", "Fe1As1La1O0.9F0.1", "Nb3Sn"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "Kiago.Tests", "Nets", "Fixtures",
                   "featuriser_images.json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    el = kc.Elements(args.data)
    cases = []
    for f in FORMULAS:
        v = el.vector(f)
        img = (v @ el.atom_map.reshape(118, -1).astype(np.float64)).reshape(kc.IMAGE_SHAPE)
        cells = [[int(c), int(r), int(col), float(img[c, r, col])] for c, r, col in zip(*np.nonzero(img))]
        en = v[kc.ELEMNET_INDICES]
        cases.append({
            "formula": f,
            "fractions": {el.symbols[i]: float(v[i]) for i in np.nonzero(v)[0]},
            "image_cells": cells,
            "image_sum": float(img.sum()),
            "elemnet_input": [[int(i), float(en[i])] for i in np.nonzero(en)[0]],
        })
    doc = {
        "about": "Produced by training/make_featuriser_fixture.py from ../shared/data/elements.csv. "
                 "image: shape [4,7,32] = [channel (s=0,p=1,d=2,f=3 from pt32_channel), pt32_row, pt32_col]; "
                 "image_cells lists every non-zero cell as [channel,row,col,value], all other cells are 0. "
                 "elemnet_input lists every non-zero entry of the 86-vector as [index into the 86, value]; "
                 "elements outside ElemNet's 86 are simply absent there (not renormalised). "
                 "fractions are amounts / sum of amounts (float64).",
        "image_shape": list(kc.IMAGE_SHAPE),
        "elemnet_indices_118": kc.ELEMNET_INDICES,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    os.replace(tmp, args.out)
    print(f"wrote {os.path.abspath(args.out)} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
