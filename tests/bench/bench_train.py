#!/usr/bin/env python3
"""Training throughput of dpst-dist on CPU at 256x256, batch 3 per rank, with the full loss
stack (content + style + depth + TV, VGG16 and hourglass). Reads each run's metrics.jsonl
(one record per step) and drops the first --warmup steps. Standard library only.

ranks mode: images/s per rank for 1 and 2 ranks with one intra-op thread each; weak-scaling
efficiency; exposed communication and loader wait as shares of the step time.

pack mode: one process co-trains a pack of K trials (a sweep over loss.depth_weight) on one
batch stream; per-trial images/s vs K trials trained one after another (K x the K = 1 step).

    .venv/bin/python tests/bench/bench_train.py --build build --data runs/bench/mini-coco-256.h5
    .venv/bin/python tests/bench/bench_train.py --mode pack --packs 1,2,4,8 --threads 2 --data ...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

STYLE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "demo", "styles", "candy.jpg")


def run(build, data, ranks, steps, size, batch, out, threads=1, pack=0, frozen_pass="auto"):
    cmd = [os.path.join(build, "bin", "dpst-dist"),
           "--set", f"data.path={data}", "--set", f"data.image_size={size}",
           "--set", f"loss.style_image={os.path.abspath(STYLE)}", "--set", "loss_nets.allow_random_init=true",
           "--set", "loss.tv_weight=1.0", "--set", f"train.iterations={steps}", "--set", f"train.batch_size={batch}",
           "--set", f"train.threads={threads}", "--set", "train.log_every=1", "--set", f"train.checkpoint_every={steps}",
           "--set", "train.device=cpu", "--set", "data.loader_threads=1", "--set", f"run.output_dir={out}",
           "--set", f"run.name=np{ranks}k{pack}", "--resume", "none", "--overwrite"]
    if pack:
        weights = ", ".join(f"{1e5 * (i + 1):.1f}" for i in range(pack))
        cmd += ["--set", "sweep.method=grid", "--set", f"sweep.trials_per_pack={pack}",
                "--set", f"sweep.axes={{loss.depth_weight: [{weights}]}}",
                "--set", f"sweep.pack_frozen_pass={frozen_pass}"]
    if ranks > 1:
        cmd = ["mpirun", "-np", str(ranks), "--oversubscribe", "--bind-to", "core"] + cmd
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    trial_dir = os.path.join(out, f"np{ranks}k{pack}")
    if pack:  # every trial of the pack logs the same step time: read the first one's
        trial_dir = os.path.join(trial_dir, sorted(d for d in os.listdir(trial_dir)
                                                   if os.path.isdir(os.path.join(trial_dir, d)))[0])
    with open(os.path.join(trial_dir, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f]


def pack_mode(args):
    print("# dpst-dist co-training: a pack of K trials on one batch stream vs K trials one after another")
    print(f"# image {args.size}x{args.size}, batch {args.batch}, full loss stack, default f_W; 1 process, "
          f"{args.threads} intra-op threads; {args.steps} steps, first {args.warmup} dropped")
    print("# shared per step: VGG16(x) + hourglass(x) targets; per trial: f_W fwd/bwd, VGG16(y) and hourglass(y) fwd/bwd")
    print(f"# pack frozen pass: {args.frozen_pass} (sweep.pack_frozen_pass; auto = per_trial on cpu)")
    print(f"# machine: {os.cpu_count()} cores; loss networks: random init (same cost as pretrained)")
    # trial-img/s: images trained per second summed over the pack's trials. One after
    # another, K trials get the K = 1 rate, whatever K is.
    cols = ["K", "step", "trial-img/s", "sequential", "speedup"]
    units = ["trials", "s", "img/s", "img/s", "x"]
    print("".join(f"{c:>14}" for c in cols))
    print("".join(f"{u:>14}" for u in units))
    single = None
    with tempfile.TemporaryDirectory() as out:
        for k in (int(v) for v in args.packs.split(",")):
            recs = run(args.build, os.path.abspath(args.data), 1, args.steps, args.size, args.batch, out,
                       threads=args.threads, pack=k, frozen_pass=args.frozen_pass)[args.warmup:]
            step_s = sum(r["step_ms"] for r in recs) / len(recs) / 1000.0
            if k == 1:
                single = step_s
            per_trial = k * args.batch / step_s
            sequential = args.batch / single if single else float("nan")
            print("".join(f"{c:>14}" for c in [str(k), f"{step_s:.2f}", f"{per_trial:.4f}", f"{sequential:.4f}",
                                              f"{per_trial / sequential:.3f}"]))
            sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", required=True, help="pack_coco file with a train2014 split at --size")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--mode", choices=["ranks", "pack"], default="ranks")
    ap.add_argument("--packs", default="1,2,4,8")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--frozen-pass", default="auto", choices=["auto", "joint", "per_trial"],
                    help="pack mode: sweep.pack_frozen_pass")
    args = ap.parse_args()
    if args.mode == "pack":
        return pack_mode(args)

    print("# dpst-dist training throughput on CPU (tests/bench/bench_train.py)")
    print(f"# image {args.size}x{args.size}, batch {args.batch} per rank, full loss stack "
          f"(content relu2_2, style relu1_2..relu4_3, depth output, TV), default f_W (width 32, 5 blocks)")
    print(f"# 1 intra-op thread per rank, ranks bound to cores, {args.steps} steps, first {args.warmup} dropped")
    print(f"# machine: {os.cpu_count()} cores; loss networks: random init (same cost as pretrained)")
    cols = ["ranks", "img/s/rank", "img/s", "step", "comm", "comm", "loader", "loader", "scaling"]
    units = ["", "img/s", "img/s", "ms", "ms", "%step", "ms", "%step", "eff"]
    print("".join(f"{c:>12}" for c in cols))
    print("".join(f"{u:>12}" for u in units))
    base = None
    with tempfile.TemporaryDirectory() as out:
        for ranks in (int(r) for r in args.ranks.split(",")):
            recs = run(args.build, os.path.abspath(args.data), ranks, args.steps, args.size, args.batch, out)[args.warmup:]
            step = sum(r["step_ms"] for r in recs) / len(recs)
            comm = sum(r["comm_exposed_ms"] for r in recs) / len(recs)
            wait = sum(r["loader_wait_ms"] for r in recs) / len(recs)
            per_rank = args.batch * 1000.0 / step
            base = base or per_rank
            row = [str(ranks), f"{per_rank:.3f}", f"{per_rank * ranks:.3f}", f"{step:.0f}", f"{comm:.1f}",
                   f"{100 * comm / step:.2f}", f"{wait:.1f}", f"{100 * wait / step:.2f}", f"{per_rank / base:.3f}"]
            print("".join(f"{c:>12}" for c in row))
            sys.stdout.flush()


if __name__ == "__main__":
    main()
