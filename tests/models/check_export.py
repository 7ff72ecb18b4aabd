#!/usr/bin/env python3
"""Acceptance 3, the Python side: an f_W exported by C++ loads into a
pytorch/examples TransformerNet-layout module and gives the same output.

    .venv/bin/python tests/models/check_export.py build-models/bin/dpst-weights

1. `dpst-weights init --net transform --width 8 --blocks 2 --seed 3` exports an f_W
   through the C++ export path (src/models/loss_nets.cpp export_transform_net);
2. this script loads it with load_state_dict(strict=True) into
   dataprep/transformer_torch.TransformerNet(8, 2);
3. `dpst-weights features --net transform` runs the C++ f_W on an image; Python runs on
   the same input tensor and compares (max |diff| / max |ref|);
4. writes tests/fixtures/golden/transform_export_check.h5 (input, python_output), which
   the C++ test Export.PythonTransformerNetGivesTheSameOutput checks without Python.
"""
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "dataprep"))
import detinit_torch as det  # noqa: E402
import transformer_torch  # noqa: E402


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "dpst-weights")
    tmp = tempfile.mkdtemp()
    export = os.path.join(tmp, "fw.h5")
    subprocess.run([tool, "init", "--net", "transform", "--width", "8", "--blocks", "2", "--seed", "3",
                    "--out", export], check=True)
    net = transformer_torch.TransformerNet(8, 2)
    with h5py.File(export, "r") as f:
        print("export attributes:", dict(f.attrs))
        state = {k: torch.from_numpy(f[k][()]) for k in f.keys()}
    net.load_state_dict(state, strict=True)
    net.eval()
    pixels = (det.det_array("input", (32, 32, 3), 4, 0.5, 0.5) * 255).round().astype(np.uint8)
    png = os.path.join(tmp, "in.png")
    Image.fromarray(pixels).save(png)
    feats = os.path.join(tmp, "feats.h5")
    subprocess.run([tool, "features", "--net", "transform", "--weights", export, "--image", png, "--size", "32",
                    "--out", feats], check=True)
    with h5py.File(feats, "r") as f:
        x = torch.from_numpy(f["input"][()])
        y_cpp = torch.from_numpy(f["output"][()])
    assert torch.equal(x, torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255), "input differs"
    with torch.no_grad():
        y_py = net(x)
    err = float((y_py - y_cpp).abs().max() / y_py.abs().max())
    print("C++ f_W vs Python TransformerNet on the same input: max rel error %.3g" % err)
    assert err < 1e-5, err
    out = os.path.join(ROOT, "tests", "fixtures", "golden", "transform_export_check.h5")
    with h5py.File(out, "w") as f:
        f["input"] = x.numpy()
        f["python_output"] = y_py.numpy()
        f.attrs["made_by"] = "tests/models/check_export.py"
    print("wrote", os.path.relpath(out, ROOT))


if __name__ == "__main__":
    main()
