#!/usr/bin/env python3
"""dpst-dist on one GPU (or, rehearsed, on the CPU at tiny sizes): the measurements of
launch/device/run.sh. Each mode runs the given dpst-dist binary on a packed dataset and
reads its metrics.jsonl; standard library only, so the GPU machine's own python3 runs it.

  precision   N steps in fp32 and N in bf16 from the same start; the final losses (mean
              total of the last 10 steps) must agree within 2 %.
  throughput  images/s per trial with the full loss stack (content, style, depth through
              the hourglass, TV) for fp32 and bf16 and packs of K trials (joint frozen
              pass), against the PyTorch eager step (train_step_eager.py) run here too.
  phases      where one step goes: dpst-dist's train.phase_timing (CUDA events on a GPU)
              per phase, and the host synchronisations per step.

    python3 tests/bench/bench_gpu.py throughput --bin BUNDLE/bin --data d256.h5 --size 256 --device cuda
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_report import Table, verdict  # noqa: E402

STYLE = os.path.join(HERE, "..", "fixtures", "demo", "styles", "candy.jpg")
TV_WEIGHT = 1.0  # the full loss stack: the registry's default 0 would leave TV out of the step
PAPER_IMAGES = 40000 * 3  # Johnson et al.: 40k steps at batch 4; dpst's paper scale is batch 3


def dpst_run(args, out, name, steps, precision="fp32", pack=1, extra=()):
    """Trains `steps` steps; returns (records of metrics.jsonl, seconds of wall time)."""
    cmd = [os.path.join(args.bin, "dpst-dist"),
           "--set", f"data.path={os.path.abspath(args.data)}", "--set", f"data.image_size={args.size}",
           "--set", f"loss.style_image={os.path.abspath(STYLE)}", "--set", "loss_nets.allow_random_init=true",
           "--set", f"loss.tv_weight={TV_WEIGHT}", "--set", f"train.iterations={steps}",
           "--set", f"train.batch_size={args.batch}", "--set", f"train.precision={precision}",
           "--set", "train.log_every=1", "--set", f"train.checkpoint_every={steps}",
           "--set", f"train.device={args.device}", "--set", f"run.output_dir={out}", "--set", f"run.name={name}",
           "--set", "eval.after_training=false", "--resume", "none", "--overwrite"]
    if args.threads:
        cmd += ["--set", f"train.threads={args.threads}"]
    if args.width:
        cmd += ["--set", f"model.width={args.width}", "--set", f"model.residual_blocks={args.blocks}"]
    if pack > 1:
        weights = ", ".join(f"{1e5 * (i + 1):.1f}" for i in range(pack))
        cmd += ["--set", "sweep.method=grid", "--set", f"sweep.trials_per_pack={pack}",
                "--set", f"sweep.axes={{loss.depth_weight: [{weights}]}}", "--set", "sweep.pack_frozen_pass=joint"]
    cmd += list(extra)
    start = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise SystemExit(f"bench_gpu: dpst-dist exited {done.returncode} ({name}): " + " | ".join(tail))
    trial = os.path.join(out, name)
    if pack > 1:  # a sweep: every trial logs the same step times; read the first
        trial = os.path.join(trial, sorted(d for d in os.listdir(trial) if os.path.isdir(os.path.join(trial, d)))[0])
    with open(os.path.join(trial, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f], seconds


def mean(values):
    values = list(values)
    return sum(values) / max(1, len(values))


def precision(args):
    print(f"# bf16 against fp32: {args.steps} steps each from the same start (same seed, same batches)")
    print(f"# device {args.device}, image {args.size}, batch {args.batch}; final loss = mean total of the last 10 steps")
    table = Table(["precision", "first", "final", "step"], ["", "total", "total", "ms"], 14)
    table.print_header()
    finals = {}
    with tempfile.TemporaryDirectory() as out:
        for p in ("fp32", "bf16"):
            recs, _ = dpst_run(args, out, p, args.steps, precision=p)
            finals[p] = mean(r["total"] for r in recs[-10:])
            table.print_row([p, f"{recs[0]['total']:.5g}", f"{finals[p]:.5g}", f"{mean(r['step_ms'] for r in recs[1:]):.1f}"])
    gap = abs(finals["bf16"] - finals["fp32"]) / finals["fp32"]
    return verdict("bf16 final loss vs fp32", f"{100 * gap:.2f} %", "<= 2 %", gap <= 0.02)


def eager(args, prec, json_out):
    cmd = [sys.executable, os.path.join(HERE, "train_step_eager.py"), "--device", args.device, "--size", str(args.size),
           "--batch", str(args.batch), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--precision", prec, "--tv-weight", str(TV_WEIGHT), "--json", json_out]
    if args.width:
        cmd += ["--width", str(args.width), "--blocks", str(args.blocks)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(json_out) as f:
        return json.load(f)


def throughput(args):
    packs = [int(k) for k in args.packs.split(",")]
    print("# dpst-dist training throughput per trial against the PyTorch eager step, same machine, same run")
    print(f"# device {args.device}, image {args.size}, batch {args.batch} per trial, full loss stack, "
          f"{args.steps} steps, first {args.warmup} dropped; packs use the joint frozen pass")
    print(f"# paper scale: {PAPER_IMAGES} images per style; MFU from the eager step's FLOP per image "
          f"(FlopCounterMode; a pack shares the targets' FLOP) at {args.peak_tflops} TFLOP/s")
    table = Table(["what", "prec", "K", "step", "img/s/trial", "vs eager", "MFU", "paper"],
                  ["", "", "trials", "ms", "img/s", "x", "%", "min"], 12)
    table.print_header()
    rates, eager_rate, flop_per_image, target_flop = {}, {}, None, 0.0
    with tempfile.TemporaryDirectory() as out:
        for prec in ("fp32", "bf16"):
            e = eager(args, prec, os.path.join(out, f"eager-{prec}.json"))
            eager_rate[prec] = e["images_per_s"]
            flop_per_image = e.get("flop_per_image", flop_per_image)
            target_flop = e.get("target_flop_per_image", target_flop)
            mfu = 100 * eager_rate[prec] * flop_per_image / (args.peak_tflops * 1e12) if flop_per_image else float("nan")
            table.print_row(["eager", prec, "1", f"{1000 * args.batch / eager_rate[prec]:.1f}",
                             f"{eager_rate[prec]:.2f}", "1.000", f"{mfu:.2f}", f"{PAPER_IMAGES / eager_rate[prec] / 60:.1f}"])
            for k in packs:
                recs, _ = dpst_run(args, out, f"{prec}-k{k}", args.steps, precision=prec, pack=k)
                step_ms = mean(r["step_ms"] for r in recs[args.warmup:])
                rate = args.batch * 1000.0 / step_ms  # per trial: each trial trains `batch` images a step
                rates[(prec, k)] = rate
                # A pack computes the targets VGG16(x) + hourglass(x) once for its K trials.
                flop = flop_per_image - target_flop * (1 - 1 / k) if flop_per_image else float("nan")
                mfu = 100 * k * rate * flop / (args.peak_tflops * 1e12)
                table.print_row(["dpst", prec, str(k), f"{step_ms:.1f}", f"{rate:.2f}", f"{rate / eager_rate[prec]:.3f}",
                                 f"{mfu:.2f}", f"{PAPER_IMAGES / rate / 60:.1f}"])
    with open(os.path.join(args.out_dir, "throughput.json"), "w") as f:
        json.dump({"dpst": {f"{p}-k{k}": v for (p, k), v in rates.items()}, "eager": eager_rate,
                   "flop_per_image": flop_per_image}, f, indent=1)
    single = rates[("bf16", 1)] / eager_rate["bf16"]
    biggest = max(packs)
    packed = biggest * rates[("bf16", biggest)] / eager_rate["bf16"]
    paper_min = PAPER_IMAGES / rates[("bf16", 1)] / 60
    print(f"# bf16 single trial vs eager : {single:.3f} x (target >= 1.5)")
    print(f"# bf16 pack of {biggest}, all trials vs eager single trial : {packed:.3f} x (target >= 3)")
    return verdict("bf16 paper-scale style", f"{paper_min:.1f} min", "<= 5 min, single >= 1.5x, pack >= 3x",
                   paper_min <= 5 and single >= 1.5 and packed >= 3)


def phases(args):
    print("# where one dpst-dist step goes: train.phase_timing (CUDA events on a GPU, wall clock on a CPU)")
    print(f"# device {args.device}, image {args.size}, batch {args.batch}, {args.precision}, {args.steps} steps, "
          f"first {args.warmup} dropped; host syncs = synchronising calls inside the step")
    with tempfile.TemporaryDirectory() as out:
        recs, _ = dpst_run(args, out, "phases", args.steps, precision=args.precision,
                           extra=["--set", "train.phase_timing=true"])
    recs = recs[args.warmup:]
    names = [k[len("phase_"):-len("_ms")] for k in recs[0] if k.startswith("phase_") and k.endswith("_ms")]
    if not names:
        raise SystemExit("bench_gpu: metrics.jsonl has no phase_<name>_ms fields: is train.phase_timing in this dpst-dist?")
    table = Table(["phase", "ms", "%step"], ["", "ms", "%"], 16)
    table.print_header()
    step = mean(r["step_ms"] for r in recs)
    covered = 0.0
    for n in names:
        ms = mean(r[f"phase_{n}_ms"] for r in recs)
        covered += ms
        table.print_row([n, f"{ms:.2f}", f"{100 * ms / step:.1f}"])
    table.print_row(["step", f"{step:.2f}", "100.0"])
    syncs = mean(r.get("host_syncs", 0) for r in recs)
    print(f"# host synchronisations per step : {syncs:.1f}")
    return verdict("phases cover the step", f"{100 * covered / step:.1f} %", ">= 90 %", covered >= 0.9 * step)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["precision", "throughput", "phases"])
    ap.add_argument("--bin", required=True, help="folder with dpst-dist (the bundle's bin/)")
    ap.add_argument("--data", required=True, help="pack_coco file with a train2014 split at --size")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--packs", default="1,2,4,8")
    ap.add_argument("--precision", default="bf16", choices=["fp32", "bf16"], help="phases mode")
    ap.add_argument("--width", type=int, default=0, help="f_W width (0: dpst's default)")
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--peak-tflops", type=float, default=790.0, help="bf16 dense peak for MFU (H200/H100: ~790 measured)")
    ap.add_argument("--out-dir", default=".", help="where throughput.json goes")
    args = ap.parse_args()
    return {"precision": precision, "throughput": throughput, "phases": phases}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
