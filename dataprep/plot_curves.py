#!/usr/bin/env python3
"""Loss curves from dpst's metrics.jsonl, drawn with matplotlib (Agg, no display).

  plot_curves.py trial TRIAL_DIR [--out TRIAL_DIR/curves.png]
      one trial: every loss term as logged (content, style, depth, tv: before their
      weights lambda) and the weighted total, against the step, log y.
  plot_curves.py sweep OUT.png TRIAL_DIR [TRIAL_DIR ...]
      the overlay of a sweep: one panel per term, one line per trial (labelled with the
      trial folder's name).

dpst-dist (after each finished trial) and dpst-eval run this as a
post-step with the project's Python (.venv/bin/python, or $DPST_PYTHON). The PNG holds
no timestamp or version, so the same metrics give the same bytes.
Exit codes: 0 written, 2 bad arguments, 3 no usable metrics.jsonl.
"""
import argparse
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TERMS = ["content", "style", "depth", "tv", "total"]


def fail(code, message):
    print(f"plot_curves.py: error: {message}", file=sys.stderr)
    sys.exit(code)


def read_metrics(trial_dir):
    path = os.path.join(trial_dir, "metrics.jsonl")
    if not os.path.isfile(path):
        fail(3, f"{path}: no such file (is {trial_dir} a trial folder?)")
    steps, values = [], {t: [] for t in TERMS}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                fail(3, f"{path}:{number}: not a JSON line ({e.msg})")
            if "step" not in record:
                continue
            steps.append(record["step"])
            for t in TERMS:
                v = record.get(t)
                # Log axes cannot show 0 or a missing term (e.g. depth with lambda3 = 0).
                values[t].append(v if isinstance(v, (int, float)) and v > 0 and math.isfinite(v) else float("nan"))
    if not steps:
        fail(3, f"{path}: no step records")
    return steps, values


def save(fig, out):
    tmp = out + ".tmp-%d.png" % os.getpid()
    fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)
    os.replace(tmp, out)


def plot_trial(trial_dir, out):
    steps, values = read_metrics(trial_dir)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for t in TERMS:
        if any(not math.isnan(v) for v in values[t]):
            ax.plot(steps, values[t], label=t, linewidth=2.2 if t == "total" else 1.4,
                    color="black" if t == "total" else None)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (log scale; terms unweighted)")
    ax.set_title(os.path.basename(os.path.normpath(trial_dir)))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="term")
    fig.tight_layout()
    save(fig, out)


def plot_sweep(out, trial_dirs):
    fig, axes = plt.subplots(1, len(TERMS), figsize=(4 * len(TERMS), 4), squeeze=False)
    for trial in trial_dirs:
        steps, values = read_metrics(trial)
        name = os.path.basename(os.path.normpath(trial))
        for ax, t in zip(axes[0], TERMS):
            if any(not math.isnan(v) for v in values[t]):
                ax.plot(steps, values[t], label=name, linewidth=1.4)
    for ax, t in zip(axes[0], TERMS):
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(f"{t} loss (log scale)")
        ax.set_title(t)
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(title="trial", fontsize="small")
    fig.tight_layout()
    save(fig, out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = parser.add_subparsers(dest="mode", required=True)
    p_trial = sub.add_parser("trial")
    p_trial.add_argument("trial_dir")
    p_trial.add_argument("--out")
    p_sweep = sub.add_parser("sweep")
    p_sweep.add_argument("out")
    p_sweep.add_argument("trial_dirs", nargs="+")
    args = parser.parse_args()
    if args.mode == "trial":
        plot_trial(args.trial_dir, args.out or os.path.join(args.trial_dir, "curves.png"))
    else:
        plot_sweep(args.out, sorted(args.trial_dirs))


if __name__ == "__main__":
    main()
