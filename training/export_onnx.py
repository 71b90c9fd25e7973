"""Export a trained state dict (from sweep.py or --state-out) to ONNX and complete its model card.

Usage: /usr/bin/python3 export_onnx.py --model tc|elemnet --state DIR/state.pt --card DIR/card.json [--exports exports]
Writes exports/tc-resnet18.onnx + tc-resnet18.card.json (or elemnet.*), ready for `kiago convert --card`."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kiago_common as kc  # noqa: E402
import kiago_loop  # noqa: E402
from kiago_models import ElemNet, TcResNet18  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = {
    "tc": (TcResNet18, "tc-resnet18", "image", lambda: torch.zeros(2, *kc.IMAGE_SHAPE)),
    "elemnet": (ElemNet, "elemnet", "fractions", lambda: torch.zeros(2, 86)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=sorted(MODELS), required=True)
    ap.add_argument("--state", required=True)
    ap.add_argument("--card", required=True)
    ap.add_argument("--exports", default=os.path.join(HERE, "exports"))
    args = ap.parse_args()
    cls, name, input_name, example = MODELS[args.model]
    model = cls()
    model.load_state_dict(torch.load(args.state, map_location="cpu"))
    model.eval()
    onnx_path = os.path.join(args.exports, f"{name}.onnx")
    kiago_loop.export_onnx(model, example(), onnx_path, input_name)
    with open(args.card) as f:
        card = json.load(f)
    card["onnx"] = {"file": f"{name}.onnx", "sha256": kc.sha256(onnx_path), "opset": 13,
                    "exported_with_torch": torch.__version__}
    kiago_loop.write_json(os.path.join(args.exports, f"{name}.card.json"), card)
    print(f"wrote {onnx_path} and {name}.card.json")


if __name__ == "__main__":
    main()
