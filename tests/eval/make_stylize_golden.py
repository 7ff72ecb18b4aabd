#!/usr/bin/env python3
"""The golden output of dpst-stylize on a small real photo (tests/fixtures/golden/stylize_photo.h5).

A 64x48 copy of ../shared/data/content/amber.jpg (bicubic, PIL) as floats in [0, 1], and the
output of the paper-sized f_W (width 32, 5 residual blocks, detinit_torch weights, seed 3,
the same values as C++ det_init) computed by pytorch/examples' TransformerNet in eager
PyTorch, fp32, clamped to [0, 1]: what dpst-stylize computed before its CPU inference path
(results/stylize.md). tests/eval/test_stylize.cpp checks dpst against it to 1e-5.

    .venv/bin/python tests/eval/make_stylize_golden.py [--photo ../shared/data/content/amber.jpg]
"""
import argparse
import os
import sys

import h5py
import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "dataprep"))
import detinit_torch as det  # noqa: E402
import transformer_torch  # noqa: E402

SEED = 3


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", default=os.path.join(ROOT, "..", "shared", "data", "content", "amber.jpg"))
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "golden", "stylize_photo.h5"))
    args = p.parse_args()
    torch.set_num_threads(1)
    img = Image.open(args.photo).convert("RGB").resize((64, 48), Image.BICUBIC)
    x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1).unsqueeze(0).contiguous()
    net = det.det_init_(transformer_torch.TransformerNet(), SEED).eval()
    with torch.no_grad():
        y = net(x).clamp(0, 1)
    with h5py.File(args.out, "w") as f:
        f.create_dataset("input", data=x.numpy())
        f.create_dataset("output", data=y.numpy())
        f.attrs["seed"] = SEED
        f.attrs["photo"] = os.path.basename(args.photo)
        f.attrs["torch"] = str(torch.__version__)
    print("wrote %s (%.0f KB)" % (os.path.relpath(args.out, ROOT), os.path.getsize(args.out) / 1024))


if __name__ == "__main__":
    main()
