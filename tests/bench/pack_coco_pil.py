#!/usr/bin/env python3
"""The baseline pack_coco is measured against: what fast-neural-style users run today,
a single-process PIL + h5py packer (make_style_dataset.py's approach), doing the same
job as pack_coco: same layout (<split>/images uint8 (N,3,S,S), one image per chunk,
<split>/ids, <split>/filenames, root attributes), largest centered square then an area
(BOX) resize to S x S, files sorted by name, ids parsed from COCO file names.
    .venv/bin/python tests/bench/pack_coco_pil.py --coco-dir DIR --out FILE.h5 [--splits train2014] [--size 256]
Runs in the project's Python environment (.venv: numpy, pillow, h5py)."""
import argparse
import os
import re
import sys
import time

import h5py
import numpy as np
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument("--coco-dir", required=True)
p.add_argument("--out", required=True)
p.add_argument("--splits", default="train2014")
p.add_argument("--size", type=int, default=256)
a = p.parse_args()

start = time.time()
written = 0
with h5py.File(a.out, "w") as f:
    for split in a.splits.split(","):
        names = sorted(n for n in os.listdir(os.path.join(a.coco_dir, split)) if n.lower().endswith((".jpg", ".jpeg", ".png")))
        images = f.create_dataset(split + "/images", (0, 3, a.size, a.size), np.uint8,
                                  maxshape=(None, 3, a.size, a.size), chunks=(1, 3, a.size, a.size))
        ids, kept = [], []
        for name in names:
            try:
                im = Image.open(os.path.join(a.coco_dir, split, name)).convert("RGB")
            except Exception as e:  # skipped, as pack_coco does
                print("skipped %s: %s" % (name, e), file=sys.stderr)
                continue
            w, h = im.size
            s = min(w, h)
            x0, y0 = (w - s) // 2, (h - s) // 2
            im = im.resize((a.size, a.size), Image.BOX, box=(x0, y0, x0 + s, y0 + s))
            images.resize(len(kept) + 1, axis=0)
            images[len(kept)] = np.asarray(im).transpose(2, 0, 1)
            m = re.match(r"^COCO_[A-Za-z]+[0-9]*_([0-9]{1,12})\.[A-Za-z]+$", name)
            ids.append(int(m.group(1)) if m else -1)
            kept.append(name)
        f.create_dataset(split + "/ids", data=np.array(ids, dtype=np.int64))
        f.create_dataset(split + "/filenames", data=kept, dtype=h5py.string_dtype())
        written += len(kept)
    f.attrs["format_version"] = 1
    f.attrs["image_size"] = a.size
    f.attrs["resize_policy"] = "center-crop"
    f.attrs["images_written"] = written
elapsed = time.time() - start
print("pack_coco_pil: written %d, %.1f images/s in %.2f s" % (written, written / elapsed, elapsed))
