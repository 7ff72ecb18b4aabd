#!/usr/bin/env python3
"""Times pack_coco against the PIL + h5py baseline (pack_coco_pil.py) on the same
folder, a few runs each, and prints an nccl-tests style table (best and median
images/s, wall clock including process start).
    .venv/bin/python tests/bench/make_bench_images.py ../shared/data/mini-coco /tmp/dpst-bench-coco 480
    .venv/bin/python tests/bench/bench_pack_coco.py --pack-coco build/bin/pack_coco --coco-dir /tmp/dpst-bench-coco --runs 3"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import Table, verdict  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--pack-coco", required=True)
p.add_argument("--coco-dir", required=True)
p.add_argument("--size", type=int, default=256)
p.add_argument("--runs", type=int, default=3)
p.add_argument("--threads", default="1,2", help="pack_coco thread counts to time")
a = p.parse_args()

here = os.path.dirname(os.path.abspath(__file__))
n = len([f for f in os.listdir(os.path.join(a.coco_dir, "train2014")) if f.endswith(".jpg")])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())


def timed(cmd):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.h5")
        t0 = time.perf_counter()
        subprocess.run(cmd + ["--out", out], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


print("# pack_coco vs PIL+h5py baseline: %d JPEGs from %s, split train2014, %dx%d center-crop" % (n, a.coco_dir, a.size, a.size))
print("# machine: %s, %d logical CPUs, %s" % (cpu, os.cpu_count(), platform.platform()))
print("# each row: %d runs, wall clock of the whole process (start, list, decode, resize, write, rename)" % a.runs)
table = Table(["tool", "threads", "images", "best", "median", "best", "speedup"], ["", "", "", "s", "s", "img/s", "x"])
table.print_header()
rows = [("pil+h5py", "1", [sys.executable, os.path.join(here, "pack_coco_pil.py"), "--coco-dir", a.coco_dir,
                           "--splits", "train2014", "--size", str(a.size)])]
for t in a.threads.split(","):
    rows.append(("pack_coco", t, [a.pack_coco, "--coco-dir", a.coco_dir, "--splits", "train2014", "--size", str(a.size),
                                  "--threads", t, "--log-level", "warn"]))
base = None
best_speedup = 0.0
for name, threads, cmd in rows:
    times = sorted(timed(cmd) for _ in range(a.runs))
    best = n / times[0]
    base = base or best
    if name == "pack_coco":
        best_speedup = max(best_speedup, best / base)
    table.print_row([name, threads, n, "%.2f" % times[0], "%.2f" % statistics.median(times), "%.1f" % best,
                     "%.2f" % (best / base)])
# results/pack_coco.md: pack_coco must pack >= 3x the images/s of the plain Python packer.
sys.exit(verdict("pack_coco / PIL+h5py images/s (best row)", "%.2f" % best_speedup, ">= 3", best_speedup >= 3))
