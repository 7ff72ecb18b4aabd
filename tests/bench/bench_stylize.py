#!/usr/bin/env python3
"""dpst-stylize next to a plain eager PyTorch loop and onnxruntime, on the same photos,
threads and model, in one run: images/s from decode to save, at 640x400 and 1920x1080.

The eager loop is what a researcher would write: dataprep/transformer_torch.py's
TransformerNet with model.h5 loaded strictly, torch.set_num_threads(T), no_grad; per
photo: PIL open, to a float tensor in [0, 1], f_W, clamp, PIL save (JPEG quality 95, the
same as dpst-stylize). dpst-stylize runs as a separate process on the folder and reports
its own images/s over the same span (decode to save; the model load and process start are
outside it, as for the eager loop). onnxruntime runs the same model exported by
dataprep/export_model.py's exporter (opset 17, dynamic height and width) on the
CPUExecutionProvider with intra-op threads T, in the same loop as the eager one (PIL
decode, pad, run, clamp, PIL save). Runs alternate (dpst, eager, onnxruntime, dpst, ...)
and the best of --runs is kept for each; the footer compares dpst with the faster peer. The model is paper-sized (width 32, 5 residual blocks) with
dpst's deterministic weights: speed does not depend on the values.

    .venv/bin/python tests/bench/bench_stylize.py --build build --photos ../shared/data/mini-coco/train2014
"""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "dataprep"))
from export_model import export_onnx, load_model  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import Table, verdict  # noqa: E402


def make_photos(source, folder, size, count):
    os.makedirs(folder, exist_ok=True)
    files = sorted(f for f in glob.glob(os.path.join(source, "*")) if f.lower().endswith((".jpg", ".jpeg", ".png")))
    if not files:
        sys.exit(f"bench_stylize.py: no photos in {source}")
    for i in range(count):
        img = Image.open(files[i % len(files)]).convert("RGB").resize(size, Image.BICUBIC)
        img.save(os.path.join(folder, f"photo{i:02d}.jpg"), quality=95)


def run_dpst(build, model, photos, out, threads):
    r = subprocess.run([os.path.join(build, "bin", "dpst-stylize"), "--model", model, "--input", photos,
                        "--output", out, "--threads", str(threads)], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"bench_stylize.py: dpst-stylize failed:\n{r.stderr}")
    m = re.search(r"\(([0-9.]+) images/s", r.stdout)
    return float(m.group(1))


def run_loop(forward, photos, out):
    """Decode -> f_W (`forward`: a (1, 3, H, W) float tensor in [0, 1] -> the same shape)
    -> save, over the folder; images/s."""
    os.makedirs(out, exist_ok=True)
    files = sorted(glob.glob(os.path.join(photos, "*.jpg")))
    t0 = time.perf_counter()
    for f in files:
        x = torch.from_numpy(np.asarray(Image.open(f).convert("RGB"), dtype=np.float32) / 255.0)
        x = x.permute(2, 0, 1).unsqueeze(0)
        h, w = x.shape[2], x.shape[3]
        ph, pw = (4 - h % 4) % 4, (4 - w % 4) % 4
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
        y = forward(x.contiguous())[0, :, :h, :w].clamp(0, 1)
        img = (y.permute(1, 2, 0) * 255.0).round().to(torch.uint8).numpy()
        Image.fromarray(img).save(os.path.join(out, os.path.basename(f)), quality=95)
    return len(files) / (time.perf_counter() - t0)


def run_eager(net, photos, out, threads):
    torch.set_num_threads(threads)
    with torch.no_grad():
        return run_loop(net, photos, out)


def ort_session(onnx_path, threads):
    import onnxruntime
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    return onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])


def run_ort(session, photos, out):
    return run_loop(lambda x: torch.from_numpy(session.run(None, {"image": x.numpy()})[0]), photos, out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--photos", required=True, help="folder of source photos (resized copies are made)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--count", type=int, default=12, help="photos per size")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--target", type=float, default=1.0, help="dpst / the faster peer's images/s to reach")
    args = p.parse_args()
    work = tempfile.mkdtemp(prefix="dpst-bench-stylize-")
    model = os.path.join(work, "model.h5")
    subprocess.run([os.path.join(args.build, "bin", "dpst-weights"), "init", "--net", "transform", "--out", model],
                   check=True, capture_output=True)
    net = load_model(model)
    import onnxruntime
    onnx_path = os.path.join(work, "model.onnx")
    export_onnx(net, torch.rand(1, 3, 64, 64), onnx_path)
    session = ort_session(onnx_path, args.threads)

    print("# dpst-stylize vs an eager PyTorch loop and onnxruntime (decode -> f_W -> save), "
          "same photos, threads, model")
    print(f"# command: {' '.join(sys.argv)}")
    print(f"# torch {torch.__version__}, onnxruntime {onnxruntime.__version__} (CPUExecutionProvider, "
          f"intra-op {args.threads}), threads {args.threads}, model width 32, 5 residual blocks, "
          f"{args.count} photos per size, best of {args.runs} alternating runs")
    print(f"# machine: {os.cpu_count()} cores ({open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()})")
    table = Table(["size", "dpst", "eager", "ort", "dpst/eager", "dpst/ort"], ["WxH", "img/s", "img/s", "img/s", "x", "x"])
    table.print_header()
    worst = None
    for size in [(640, 400), (1920, 1080)]:
        photos = os.path.join(work, f"in-{size[0]}x{size[1]}")
        make_photos(args.photos, photos, size, args.count)
        best_dpst = best_eager = best_ort = 0.0
        for i in range(args.runs):
            best_dpst = max(best_dpst, run_dpst(args.build, model, photos, os.path.join(work, f"d{i}"), args.threads))
            best_eager = max(best_eager, run_eager(net, photos, os.path.join(work, f"e{i}"), args.threads))
            best_ort = max(best_ort, run_ort(session, photos, os.path.join(work, f"o{i}")))
        ratio = best_dpst / max(best_eager, best_ort)
        worst = ratio if worst is None else min(worst, ratio)
        table.print_row([f"{size[0]}x{size[1]}", f"{best_dpst:.3f}", f"{best_eager:.3f}", f"{best_ort:.3f}",
                         f"{best_dpst / best_eager:.3f}", f"{best_dpst / best_ort:.3f}"])
    return verdict("dpst-stylize / the faster of eager and onnxruntime, images/s (worst size)", f"{worst:.3f}",
                   f">= {args.target}", worst >= args.target)


if __name__ == "__main__":
    sys.exit(main())
