#!/usr/bin/env python3
"""Builds a folder of COCO-like JPEGs for the pack_coco benchmark: 640x480 (some
480x640 / 640x427), quality 90, from the mini-coco photos with crops, flips and colour
shifts so no two files are alike. Reproducible (fixed seed). Not committed.
    .venv/bin/python tests/bench/make_bench_images.py ../shared/data/mini-coco /tmp/dpst-bench-coco 480
makes /tmp/dpst-bench-coco/train2014/COCO_train2014_<id>.jpg."""
import glob
import os
import random
import sys

from PIL import Image, ImageOps

src, dst, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(0)
photos = sorted(glob.glob(os.path.join(src, "*2014", "*.*")))
out_dir = os.path.join(dst, "train2014")
os.makedirs(out_dir, exist_ok=True)
sizes = [(640, 480)] * 6 + [(480, 640), (640, 427)]
for i in range(count):
    im = Image.open(photos[i % len(photos)]).convert("RGB")
    w, h = sizes[rng.randrange(len(sizes))]
    im = ImageOps.fit(im, (w, h), Image.BICUBIC, centering=(rng.random(), rng.random()))
    if rng.random() < 0.5:
        im = ImageOps.mirror(im)
    r, g, b = [c.point(lambda v, k=rng.uniform(0.8, 1.2): min(255, int(v * k))) for c in im.split()]
    Image.merge("RGB", (r, g, b)).save(os.path.join(out_dir, "COCO_train2014_%012d.jpg" % (500000 + i)), quality=90)
print("wrote %d images to %s" % (count, out_dir))
