#!/usr/bin/env python3
"""Many styles in one f_W at equal budget, and adding a style to a trained one
(results/multistyle.md). On the demo data at 64x64 with the demo's settings (width 16,
3 residual blocks, style weight 2e8, lambda3 2.8e5, random-init loss networks, flagged):

  multi    one f_W of 4 styles (loss.style_image a list), S steps of batch b: each style
           sees S*b/4 images;
  single   4 one-style f_W (a co-trained pack), S/4 steps of batch b each: the same images
           per style;
  full     a one-style f_W of a fifth style, S steps (the same images as the added style
           sees, four times over);
  added    the fifth style added to the trained multi net (model.extend_from: only its
           InstanceNorm rows train), S/4 steps.

Every model is then evaluated by dpst-eval on the val photos (the same images and loss
networks for all); the tables compare the final content and style losses per style.

    .venv/bin/python tests/bench/bench_multistyle.py --build build --data runs/demo-data/coco-64.h5
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import Table, verdict  # noqa: E402

STYLES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "demo", "styles")
FOUR = ["candy", "starry_night", "mosaic", "wave"]
FIFTH = "udnie"


def style_path(name):
    return os.path.abspath(os.path.join(STYLES_DIR, name + ".jpg"))


def dpst_dist(args, out, name, steps, sets):
    if args.reuse and os.path.exists(os.path.join(out, name, "summary.csv" if "sweep.method=grid" in sets else "FINISHED")):
        return os.path.join(out, name)  # --reuse: trained by an earlier run with --keep
    cmd = [os.path.join(args.build, "bin", "dpst-dist"),
           "--set", f"data.path={os.path.abspath(args.data)}", "--set", f"data.image_size={args.size}",
           "--set", "loss_nets.allow_random_init=true", "--set", "model.width=16", "--set", "model.residual_blocks=3",
           "--set", "loss.style_size=128", "--set", "loss.style_weight=2.0e8", "--set", "loss.depth_weight=2.8e5",
           "--set", f"train.iterations={steps}", "--set", f"train.batch_size={args.batch}",
           "--set", f"train.threads={args.threads}", "--set", "train.log_every=50", "--set", f"train.checkpoint_every={steps}",
           "--set", "train.device=cpu", "--set", "data.loader_threads=1", "--set", "eval.after_training=false",
           "--set", "run.seed=1", "--set", f"run.output_dir={out}", "--set", f"run.name={name}",
           "--resume", "none", "--overwrite"] + sets
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return os.path.join(out, name)


def evaluate(args, target):
    """dpst-eval's rows: {(trial, style): {column: value}}."""
    subprocess.run([os.path.join(args.build, "bin", "dpst-eval"), target, "--images", str(args.images),
                    "--grid-images", "0"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    folder = target if os.path.isdir(target) else os.path.dirname(target)
    with open(os.path.join(folder, "ablation.csv")) as f:
        rows = list(csv.reader(f))
    # "style" heads both the style's name (column 2) and its loss (a metric column).
    header = rows[0]
    content, style = header.index("content"), header.index("style", 2)
    return {(r[0], r[1]): {"content": r[content], "style": r[style]} for r in rows[1:]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", required=True, help="pack_coco file of the demo photos at --size")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=800, help="S: steps of the 4-style net and of the full run")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=6, help="val images evaluated")
    ap.add_argument("--extend-lr", type=float, default=1e-3, help="optim.lr of the added style's rows")
    ap.add_argument("--keep", default="", help="keep the runs in this folder (default: a temporary one)")
    ap.add_argument("--reuse", action="store_true", help="with --keep: evaluate runs an earlier run finished there")
    args = ap.parse_args()
    s, q = args.steps, args.steps // 4

    print("# many styles in one f_W vs one f_W per style at equal images per style (tests/bench/bench_multistyle.py)")
    print(f"# data {args.data} at {args.size}x{args.size}; f_W width 16, 3 blocks; style weight 2e8, lambda3 2.8e5; "
          f"batch {args.batch}, {args.threads} threads, seed 1")
    print(f"# multi: 4 styles, {s} steps ({s * args.batch // 4} images per style); single: 4 nets, {q} steps each "
          f"({q * args.batch} images each)")
    print(f"# added: {FIFTH} added to the multi net (model.extend_from, optim.lr {args.extend_lr}), {q} steps; "
          f"full: a one-style {FIFTH} net, {s} steps")
    print(f"# evaluated by dpst-eval on the first {args.images} val images; loss networks: RANDOM INIT (flagged: "
          "these losses show the method working, not real style quality)")
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or tmp
        os.makedirs(out, exist_ok=True)
        multi = dpst_dist(args, out, "multi", s, ["--set", "loss.style_image=[" + ", ".join(map(style_path, FOUR)) + "]"])
        single = dpst_dist(args, out, "single", q,
                           ["--set", "sweep.method=grid", "--set", "sweep.trials_per_pack=4",
                            "--set", "sweep.axes={loss.style_image: [" + ", ".join(map(style_path, FOUR)) + "]}"])
        full = dpst_dist(args, out, "full", s, ["--set", f"loss.style_image={style_path(FIFTH)}"])
        added = dpst_dist(args, out, "added", q,
                          ["--set", f"loss.style_image={style_path(FIFTH)}", "--set", f"optim.lr={args.extend_lr}",
                           "--set", f"model.extend_from={os.path.join(multi, 'model.h5')}"])
        rows_multi = evaluate(args, os.path.join(multi, "model.h5"))
        rows_single = evaluate(args, single)
        rows_full = evaluate(args, os.path.join(full, "model.h5"))
        rows_added = evaluate(args, os.path.join(added, "model.h5"))

    table = Table(["style", "content", "content", "ratio", "style", "style", "ratio", "better"],
                  ["", "multi", "single", "m/s", "multi", "single", "m/s", ""], 13)
    table.print_header()
    worst = 0.0
    for style in FOUR:
        m = rows_multi[("multi", style)]
        one = next(r for (trial, st), r in rows_single.items() if st == style)
        cm, cs, sm, ss = (float(m["content"]), float(one["content"]), float(m["style"]), float(one["style"]))
        better = "multi" if cm + sm * 2e8 / 1e5 < cs + ss * 2e8 / 1e5 else "single"
        worst = max(worst, cm / cs, sm / ss)
        table.print_row([style, f"{cm:.4g}", f"{cs:.4g}", f"{cm / cs:.3f}", f"{sm:.4g}", f"{ss:.4g}", f"{sm / ss:.3f}",
                         better])
    code = verdict("multi / single content and style loss per style (worst)", f"{worst:.3f}",
                   "<= 1.10: not worse by more than 10 %", worst <= 1.10)

    print("#")
    print(f"# adding a style: {FIFTH} trained into the 4-style net's new rows vs a one-style {FIFTH} net")
    table = Table(["run", "steps", "trained", "style", "content", "ratio"], ["", "", "params", "loss", "loss", "/full"], 13)
    table.print_header()
    f, a = rows_full[("full", FIFTH)], rows_added[("added", FIFTH)]
    ratio = float(a["style"]) / float(f["style"])
    table.print_row(["full", str(s), "all", f"{float(f['style']):.4g}", f"{float(f['content']):.4g}", "1.000"])
    table.print_row(["added", str(q), "IN rows", f"{float(a['style']):.4g}", f"{float(a['content']):.4g}", f"{ratio:.3f}"])
    code |= verdict("added style's style loss / full run's, in a quarter of its steps", f"{ratio:.3f}", "<= 1.10",
                    ratio <= 1.10)
    return code


if __name__ == "__main__":
    sys.exit(main())
