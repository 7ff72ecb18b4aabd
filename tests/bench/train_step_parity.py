#!/usr/bin/env python3
"""Parity of tests/bench/train_step_eager.py with dpst-dist: the five loss terms (content,
style, depth, tv, total) of the first --steps steps. Step 1's terms depend only on the initial
weights, the style Grams and the first batch (the forward definition); step 2's also on
step 1's backward and Adam update.

  1. packs the bundled demo photos (tests/fixtures/demo/coco) with build/bin/pack_coco at --size
     (or takes --data);
  2. runs build/bin/dpst-dist for --steps steps on CPU with train.log_every=1 and random-init loss
     nets (det_init seed 0 in both), f_W seeded by run.seed = --seed;
  3. runs the eager steps on the same batches: data::Sampler's epoch-0 permutation
     (splitmix64 Fisher-Yates from run.seed) read from the same .h5 with h5py;
  4. prints dpst's metrics.jsonl records beside the eager terms and their relative differences.

    .venv/bin/python tests/bench/train_step_parity.py --size 32 --width 8 --blocks 1 --batch 2
    .venv/bin/python tests/bench/train_step_parity.py --size 64 --precision bf16 --tolerance 2e-2
Needs h5py (the project's .venv has it) and a build; not a ctest test.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_eager as eager  # noqa: E402
from bench_report import Table, verdict  # noqa: E402

M64 = (1 << 64) - 1


def epoch0_permutation(n, seed):
    """data::Sampler::permutation(n, seed, epoch 0); a one-rank group takes batch i from
    entries [i*B, (i+1)*B)."""
    state = seed

    def splitmix():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    splitmix()  # the sampler advances the state once; epoch 0's xor changes nothing
    perm = list(range(n))
    for i in range(n - 1, 0, -1):  # Fisher-Yates from the back, rejection-sampled (no modulo bias)
        limit = M64 - M64 % (i + 1)
        x = splitmix()
        while x >= limit:
            x = splitmix()
        j = x % (i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def run_dpst(args, data, out):
    sets = {"data.path": data, "data.image_size": args.size, "data.loader_threads": 1,
            "loss.style_image": os.path.abspath(args.style), "loss.style_size": args.style_size,
            "loss_nets.allow_random_init": "true", "model.width": args.width, "model.residual_blocks": args.blocks,
            "run.seed": args.seed, "run.output_dir": out, "run.name": "parity", "train.iterations": args.steps,
            "train.batch_size": args.batch, "train.log_every": 1, "train.checkpoint_every": args.steps, "train.threads": 1,
            "train.device": "cpu", "train.precision": args.precision, "eval.after_training": "false"}
    cmd = [os.path.join(args.build, "bin", "dpst-dist"), "--resume", "none", "--overwrite"]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        sys.exit("dpst-dist failed (%d):\n%s" % (r.returncode, r.stdout[-3000:]))
    with open(os.path.join(out, "parity", "metrics.jsonl")) as f:
        return [json.loads(line) for line in f], " ".join(cmd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(eager.ROOT, "build"))
    ap.add_argument("--data", help="a pack_coco .h5 at --size (default: pack the bundled demo photos)")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--blocks", type=int, default=1)
    ap.add_argument("--style", default=eager.DEFAULT_STYLE)
    ap.add_argument("--style-size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--steps", type=int, default=2, help="steps compared (within the first epoch)")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="largest relative difference accepted")
    args = ap.parse_args()
    import h5py

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if not data:
            data = os.path.join(tmp, "demo-%d.h5" % args.size)
            subprocess.run([os.path.join(args.build, "bin", "pack_coco"), "--coco-dir",
                            os.path.join(eager.ROOT, "tests", "fixtures", "demo", "coco"), "--out", data,
                            "--size", str(args.size), "--threads", "1"], check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        want, cmd = run_dpst(args, os.path.abspath(data), os.path.join(tmp, "runs"))
        with h5py.File(data, "r") as f:
            images = f["train2014/images"]
            perm = epoch0_permutation(images.shape[0], args.seed)
            rows = [perm[i * args.batch:(i + 1) * args.batch] for i in range(args.steps)]
            xs = [torch.from_numpy(np.stack([images[i] for i in r])).float() / 255.0 for r in rows]  # Dataset::read_batch

    eargs = eager.parser().parse_args(["--device", "cpu", "--threads", "1", "--trials", "1"])
    for k in ("size", "batch", "width", "blocks", "style", "style_size", "seed", "precision"):
        setattr(eargs, k, getattr(args, k))
    nets = eager.setup(eargs)
    eager.preamble(eargs, nets, f"dpst-dist's first {args.steps} batches of "
                                f"{data if args.data else 'the packed demo photos'}: train2014 rows {rows}")
    print(f"# dpst-dist: {os.path.basename(cmd.split()[0])} " + " ".join(cmd.split()[1:]).replace(tmp, "$TMP"))
    table = Table(["step", "term", "dpst-dist", "eager", "rel.diff"], ["", "", "", "", ""], 16)
    table.print_header()
    worst = 0.0
    for step, (x, record) in enumerate(zip(xs, want), 1):
        assert record["step"] == step, record
        terms, _ = eager.train_step(nets, x, lambda phase: None)
        for k in eager.TERMS:
            got = float(terms[0][k].detach())
            rel = abs(got - record[k]) / max(abs(record[k]), 1e-30)
            worst = max(worst, rel)
            table.print_row([str(step), k, f"{record[k]:.9e}", f"{got:.9e}", f"{rel:.2e}"])
    return verdict(f"loss terms of steps 1..{args.steps}, max relative difference", f"{worst:.2e}", f"<= {args.tolerance:g}",
                   worst <= args.tolerance)


if __name__ == "__main__":
    sys.exit(main())
