"""Applies train_members.neutralise_embeddings to token members exported before it existed (2026-12-03: ef-tokens
member 0-1, tc-tokens member 0-2): the ONNX file's embedding table (119 x d) gets the rows of elements absent from
train_compositions.csv (and, for Ef, the 86 pure elements of the augmentation) set to the mean of the trained rows;
the card records them. Idempotent. Usage:
    /usr/bin/python3 training/neutralise_onnx_embeddings.py training/exports/members/ef-tokens --ef"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
import kiago_loop  # noqa: E402
from train_members import neutralise_embeddings, unseen_elements  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--ef", action="store_true", help="the pure elements of ElemNet's set count as training rows")
    ap.add_argument("--data", default=kc.DEFAULT_DATA)
    args = ap.parse_args()
    el = kc.Elements(args.data)
    train = np.stack([el.vector(r["formula"]) for r in kc.read_csv(os.path.join(args.folder, "train_compositions.csv"))])
    unseen = unseen_elements(train, np.eye(kc.N_ELEMENTS)[kc.ELEMNET_INDICES] if args.ef else None)
    for path in sorted(glob.glob(os.path.join(args.folder, "member-*.onnx"))):
        model = onnx.load(path)
        table = next(i for i in model.graph.initializer if i.name == "embed.weight")
        w = numpy_helper.to_array(table).copy()
        neutralise_embeddings(w, unseen)
        table.CopyFrom(numpy_helper.from_array(w, table.name))
        tmp = path + ".tmp"
        onnx.save(model, tmp)
        os.replace(tmp, path)
        card_path = path[:-len(".onnx")] + ".card.json"
        with open(card_path) as f:
            card = json.load(f)
        card["training"]["unseen_elements"] = unseen
        card["training"]["unseen_elements_note"] = ("embedding rows of elements in no training row set to the mean of the trained rows "
                                                    "(after export, by neutralise_onnx_embeddings.py)")
        card["onnx"]["sha256"] = kc.sha256(path)
        kiago_loop.write_json(card_path, card)
        print(f"{path}: {len(unseen)} unseen element rows set to the mean ({', '.join(map(str, unseen))})")


if __name__ == "__main__":
    main()
