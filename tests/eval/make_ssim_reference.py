#!/usr/bin/env python3
"""Writes the SSIM reference fixture that tests/eval/test_metrics.cpp checks dpst's SSIM
against (run once; the output is committed):

    .venv/bin/python tests/eval/make_ssim_reference.py tests/fixtures/demo/coco tests/fixtures/eval

Runs in the project's Python environment (.venv, from launch/install-deps.sh: scikit-image,
numpy, pillow pinned in launch/requirements.txt).

For three real photos of the demo set it saves, as PNG: the photo resized to a small
odd size (`photo-<k>.png`) and a degraded copy made deterministically (Gaussian blur,
then seeded Gaussian noise; `photo-<k>-degraded.png`). ssim_reference.json lists the
pairs with the exact skimage calls' results:

    gray: structural_similarity(rgb2gray(a), rgb2gray(b), gaussian_weights=True,
                                sigma=1.5, use_sample_covariance=False, data_range=1.0)
    red:  the same call on the red channels (no grayscale conversion)

with a, b = uint8 / 255 as float64 (H, W, 3).
"""
import json
import os
import sys

import numpy as np
import skimage
from PIL import Image, ImageFilter
from skimage.color import rgb2gray
from skimage.metrics import structural_similarity

# (source photo in the demo set, output size (w, h), blur radius, noise sigma in 0-255 units, seed)
PAIRS = [
    ("val2014/COCO_val2014_000000200000.jpg", (80, 60), 1.0, 6.0, 1),
    ("val2014/COCO_val2014_000000200001.jpg", (77, 66), 1.5, 3.0, 2),
    ("train2014/COCO_train2014_000000100003.jpg", (64, 43), 0.6, 12.0, 3),
]


def ssim(a, b):
    return float(structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, data_range=1.0))


def main(coco, out):
    os.makedirs(out, exist_ok=True)
    entries = []
    for k, (src, size, blur, noise, seed) in enumerate(PAIRS, start=1):
        photo = Image.open(os.path.join(coco, src)).convert("RGB").resize(size, Image.LANCZOS)
        blurred = np.asarray(photo.filter(ImageFilter.GaussianBlur(blur)), dtype=np.float64)
        noisy = blurred + np.random.RandomState(seed).normal(0.0, noise, blurred.shape)
        degraded = Image.fromarray(np.clip(np.round(noisy), 0, 255).astype(np.uint8), "RGB")
        a_name, b_name = f"photo-{k}.png", f"photo-{k}-degraded.png"
        photo.save(os.path.join(out, a_name), optimize=True)
        degraded.save(os.path.join(out, b_name), optimize=True)
        # Read back what was saved: the test reads the same PNG bytes.
        a = np.asarray(Image.open(os.path.join(out, a_name)), dtype=np.float64) / 255.0
        b = np.asarray(Image.open(os.path.join(out, b_name)), dtype=np.float64) / 255.0
        entries.append({
            "a": a_name, "b": b_name, "source": src, "width": size[0], "height": size[1],
            "ssim_gray": ssim(rgb2gray(a), rgb2gray(b)),
            "ssim_red": ssim(a[..., 0], b[..., 0]),
            "ssim_gray_self": ssim(rgb2gray(a), rgb2gray(a)),
        })
    doc = {
        "made_by": "tests/eval/make_ssim_reference.py",
        "skimage": skimage.__version__,
        "call": "structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, "
                "data_range=1.0); gray: skimage.color.rgb2gray of uint8/255 float64",
        "pairs": entries,
    }
    with open(os.path.join(out, "ssim_reference.json"), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
