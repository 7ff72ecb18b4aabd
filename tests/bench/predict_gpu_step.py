#!/usr/bin/env python3
"""Predicts, on paper, one bf16 dpst training step on a GPU (default: H200, 256x256, batch 3)
for packs of K = 1 and K = 8 trials, from counts taken on CPU with the eager mirror
tests/bench/train_step_eager.py (one step after a warm-up step, bf16 autocast).

Per phase (input, targets, fw, lossnets, backward, agree, adam; K = 1 per-trial, K > 1 joint
as dpst's auto mode on CUDA: targets once, f_W / loss terms / Adam per trial, the frozen nets
once on the pack's K*B outputs), three counts, all taken by TorchDispatchModes, which see the
ATen ops after autograd and autocast, i.e. what a CUDA backend would be asked to run:
  FLOP      torch.utils.flop_counter.FlopCounterMode (convolutions, their backward, bmm: the
            tensor-core work); "elementwise" = one FLOP per output element of every other op,
            printed to show it is not material (it is memory-bound and in the byte count);
  bytes     for each op that launches a kernel: the bytes of its tensor inputs and outputs
            (a tensor's bytes = the memory its strides touch, so a broadcast scalar is one
            element; in-place outputs count as a write) -- every operand to and from HBM
            once, no cache reuse, no re-reads inside a kernel (a convolution's backward reads
            its input only for the weight gradient; cuDNN's bias add_ reads and writes the output);
  launches  ops that run at least one CUDA kernel: views, metadata and allocations none;
            convolution 1, + 1 when it has a bias (cuDNN adds it with a separate add_);
            convolution_backward 1 per gradient in its output_mask (dgrad, wgrad, bias);
            lerp_ 2 (LibTorch's Adam does mul_ + add_ where torch.optim's does lerp_); ops
            on Adam's host-side step counters none; every other op 1.
CPU autocast keeps reflection_pad2d in fp32 where CUDA autocast does not; the counting run
disables autocast around f_W's pads so the dtypes follow CUDA's. Every tensor of the step is
either independent of the image side S or proportional to S^2 (S a multiple of 16), so the
counts are taken at three small sides, fitted as a + b*S + c*S^2 (exact: every tensor
dimension is linear in S) and evaluated at --size; a fourth side checks the fit. Launch
counts do not depend on S. "prep" = launches of ops whose inputs are weights alone (the
hourglass's BatchNorm folding, autocast's weight casts): the same every step.
The batch upload and the flags download (no-ops between CPU tensors) are added: 1 launch each.
torch.profiler's leaf ATen ops of the same CPU step are printed for comparison only: on CPU
they include the CPU convolutions' internal copies and resizes, which CUDA does not run.
Times: compute = FLOP / --peak-tflops, memory = bytes / --hbm-tbs, launch = launches x 2/4/6 us;
a phase is predicted as max(compute, memory) + launches x 4 us (additive: launches do not
overlap the kernels); "overlapped" = Σ max(compute, memory, launch) is the optimistic bound.

    .venv/bin/python tests/bench/predict_gpu_step.py            # about a minute on 1 core
"""
import argparse
import os
import sys
import weakref

import torch
import torch.nn as nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_eager as eager  # noqa: E402
from bench_report import Table, verdict  # noqa: E402

NO_KERNEL = {"view", "_unsafe_view", "reshape", "_reshape_alias", "transpose", "t", "permute", "expand", "slice",
             "select", "split", "split_with_sizes", "narrow", "unsqueeze", "squeeze", "detach", "alias", "as_strided",
             "unbind", "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "lift_fresh", "resize_"}
MATMUL = {"convolution", "convolution_backward", "bmm", "mm", "addmm", "baddbmm"}
COUNTS = ("flop", "eltwise", "bytes", "launches", "prep")


def touched_bytes(t):
    """Bytes a kernel touches reading or writing t: its strided span, at most numel elements."""
    if t.numel() == 0:
        return 0
    span = 1 + sum((n - 1) * abs(s) for n, s in zip(t.shape, t.stride()))
    return min(t.numel(), span) * t.element_size()


def kernels(func, args, name):
    if func.namespace != "aten" or name in NO_KERNEL or getattr(func, "is_view", False):
        return 0
    if name == "convolution":
        return 1 + (args[2] is not None)
    if name == "convolution_backward":
        return sum(bool(m) for m in args[-1])
    return 2 if name == "lerp_" else 1


def reads_of(name, args, ins):
    """The tensors an op reads: copy_ only its source; convolution_backward its input only for
    the weight gradient and its weight only for the input gradient (frozen nets need dgrad only)."""
    if name == "copy_":
        return ins[1:]
    if name == "convolution_backward":
        mask = args[-1]
        return [args[0]] + ([args[2]] if mask[0] else []) + ([args[1]] if mask[1] else [])
    return ins


class Counter(TorchDispatchMode):
    """Bytes, launches and elementwise FLOP per phase; mark(phase) closes a phase."""

    def __init__(self, host_ptrs, flops, weights):
        super().__init__()
        self.host, self.flops, self.flops_seen = host_ptrs, flops, 0
        self.weights = {id(t): weakref.ref(t) for t in weights}  # and tensors made from them alone
        self.pending = dict.fromkeys(COUNTS, 0)
        self.phase = {p: dict.fromkeys(COUNTS, 0) for p in eager.PHASES}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = func.overloadpacket.__name__
        ins = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        if any(t.data_ptr() in self.host for t in ins):
            return out  # Adam's step counter lives on the host: no kernel
        n = kernels(func, args, name)
        if n:
            outs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
            reads = reads_of(name, args, ins)
            self.pending["launches"] += n
            if ins and all(self.weights.get(id(t), lambda: None)() is t for t in ins):
                self.pending["prep"] += n  # from weights alone: the same every step
                self.weights.update((id(t), weakref.ref(t)) for t in outs)
            self.pending["bytes"] += sum(touched_bytes(t) for t in reads + outs)
            if name == "convolution" and args[2] is not None:
                self.pending["bytes"] += 2 * touched_bytes(out)  # cuDNN's separate bias add_: read + write
            if name not in MATMUL:
                self.pending["eltwise"] += sum(t.numel() for t in outs)
        return out

    def mark(self, phase):
        total = self.flops.get_total_flops()
        self.pending["flop"], self.flops_seen = total - self.flops_seen, total
        for k in COUNTS:
            self.phase[phase][k] += self.pending[k]
        self.pending = dict.fromkeys(COUNTS, 0)


def count_step(size, batch, trials, width, blocks, profile=False):
    """Per-phase counts of one steady-state bf16 step (after a warm-up step) on CPU."""
    args = eager.parser().parse_args(["--device", "cpu", "--precision", "bf16", "--size", str(size), "--batch",
                                      str(batch), "--trials", str(trials), "--joint", str(int(trials > 1)),
                                      "--width", str(width), "--blocks", str(blocks)])
    nets = eager.setup(args)
    x = eager.random_batches(args, 1)[0]
    eager.train_step(nets, x, lambda phase: None)  # Adam's state exists from here on, as in steady state
    host = {s["step"].data_ptr() for t in nets["trials"] for s in t["adam"].state.values()}
    flops = FlopCounterMode(display=False)
    modules = [nets["vgg"], nets["hg"]] + [t["net"] for t in nets["trials"]]
    weights = [t for m in modules for t in list(m.parameters()) + list(m.buffers())]
    with flops, Counter(host, flops, weights) as counter:
        eager.train_step(nets, x, counter.mark)
    # Copies that are no-ops between CPU tensors: the batch upload and the flags download.
    counter.phase["input"].update(launches=1, bytes=touched_bytes(x))
    counter.phase["agree"]["launches"] += 1
    counter.phase["agree"]["bytes"] += 2 * (trials + 1) * len(eager.TERMS) * 4
    if not profile:
        return counter.phase, None
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], acc_events=True) as prof:
        eager.train_step(nets, x, lambda phase: None)
    leaves = [e.name for e in prof.events() if e.name.startswith("aten::")
              and not any(c.name.startswith("aten::") for c in e.cpu_children)]
    return counter.phase, (len(leaves), sum(n[6:] not in NO_KERNEL for n in leaves))


def fit(counts, sides, size):
    """The quadratic a + b*S + c*S^2 through the counts at three sides (Lagrange), at `size`."""
    def basis(i):
        others = [s for j, s in enumerate(sides) if j != i]
        return (size - others[0]) * (size - others[1]) / ((sides[i] - others[0]) * (sides[i] - others[1]))
    return {p: {k: sum(basis(i) * c[p][k] for i, c in enumerate(counts)) for k in COUNTS} for p in eager.PHASES}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--packs", default="1,8", help="K values (trials per pack)")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--sides", default="16,32,48,64", help="three sides to fit a + b*S + c*S^2, one to check it")
    ap.add_argument("--peak-tflops", type=float, default=790.0, help="dense bf16 tensor-core peak")
    ap.add_argument("--hbm-tbs", type=float, default=4.3, help="HBM bandwidth, TB/s")
    ap.add_argument("--pcie-gbs", type=float, default=50.0, help="host-to-device copy of the batch, GB/s")
    ap.add_argument("--launch-us", default="2,4,6", help="per-launch costs; the middle one is the prediction's")
    ap.add_argument("--steps", type=int, default=40000, help="paper: 40k steps x batch 3 per style")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sides = [int(v) for v in args.sides.split(",")]
    launch_us = [float(v) for v in args.launch_us.split(",")]
    us = launch_us[len(launch_us) // 2]
    original_pad = nn.ReflectionPad2d.forward

    def pad_as_cuda(self, x):  # CUDA autocast pads in the input's dtype; CPU autocast in fp32
        with torch.autocast("cpu", enabled=False):
            return original_pad(self, x)

    nn.ReflectionPad2d.forward = pad_as_cuda
    print("# dpst bf16 training step on a GPU, predicted from CPU op counts (tests/bench/predict_gpu_step.py)")
    print(f"# image {args.size}x{args.size}, batch {args.batch}, f_W width {args.width} blocks {args.blocks}, "
          f"full loss stack; K = 1 per-trial, K > 1 joint frozen pass; torch {torch.__version__}")
    print(f"# device model: {args.peak_tflops:g} TFLOP/s bf16, {args.hbm_tbs:g} TB/s HBM, {args.pcie_gbs:g} GB/s "
          f"host-to-device, {us:g} us per launch (also {', '.join(f'{v:g}' for v in launch_us if v != us)})")
    print(f"# counts: one steady-state step on CPU at sides {sides[:3]}, fitted a + b*S + c*S^2, checked at {sides[3]}")
    summary = {}
    for k in (int(v) for v in args.packs.split(",")):
        runs = [count_step(s, args.batch, k, args.width, args.blocks, profile=i == 0) for i, s in enumerate(sides)]
        measured, prof = [r[0] for r in runs], runs[0][1]
        want = fit(measured[:3], sides[:3], sides[3])
        worst = max(abs(want[p][c] - measured[3][p][c]) / max(measured[3][p][c], 1) for p in eager.PHASES for c in COUNTS)
        assert all(m[p]["launches"] == measured[0][p]["launches"] for m in measured for p in eager.PHASES), "launches vary"
        counts = fit(measured[:3], sides[:3], args.size)
        print(f"#\n# K = {k}: fit checked at S = {sides[3]}: largest relative deviation {worst:.1e}; torch.profiler on "
              f"the CPU step: {prof[0]} leaf ATen ops, {prof[1]} without views/allocations (CPU-only internals)")
        table = Table(["phase", "FLOP", "eltwise", "bytes", "launches", "prep", "compute", "memory", "launch",
                       "predicted"], ["", "GFLOP", "GFLOP", "MB", "", "launches", "ms", "ms", "ms", "ms"], 11)
        table.print_header()
        rows = {}
        for p in eager.PHASES + ("step",):
            c = counts[p] if p != "step" else {n: sum(counts[q][n] for q in eager.PHASES) for n in COUNTS}
            bw = args.pcie_gbs * 1e6 if p == "input" else args.hbm_tbs * 1e9  # bytes per ms
            r = {"c": c["flop"] / (args.peak_tflops * 1e9), "m": c["bytes"] / bw, "l": c["launches"] * us / 1e3}
            if p == "step":  # sums of the phases' times (the input copy is timed at PCIe speed)
                r = {n: sum(rows[q][n] for q in eager.PHASES) for n in ("c", "m", "l", "pred", "gpu", "overlap")}
            else:
                r.update(pred=max(r["c"], r["m"]) + r["l"], gpu=max(r["c"], r["m"]), overlap=max(r.values()))
            rows[p] = r
            table.print_row([p, f"{c['flop'] / 1e9:.1f}", f"{c['eltwise'] / 1e9:.2f}", f"{c['bytes'] / 1e6:.1f}",
                             f"{c['launches']:.0f}", f"{c['prep']:.0f}", f"{r['c']:.3f}", f"{r['m']:.3f}",
                             f"{r['l']:.3f}", f"{r['pred']:.3f}"])
        step, total = rows["step"], {n: sum(counts[q][n] for q in eager.PHASES) for n in COUNTS}
        for v in launch_us:
            ms = step["gpu"] + total["launches"] * v / 1e3
            print(f"# K = {k}, {v:g} us/launch: step {ms:.2f} ms; {args.batch * 1e3 / ms:.1f} images/s per trial, "
                  f"{k * args.batch * 1e3 / ms:.1f} per pack; {args.steps} steps x batch {args.batch}: "
                  f"{args.steps * ms / 3.6e6:.2f} h per pack of {k} = {args.steps * ms / 3.6e6 / k:.3f} h per style")
        limits = {"compute": step["c"], "memory": step["m"], "launches": step["l"]}
        first = max(limits, key=limits.get)
        print(f"# K = {k}: limit reached first: {first} ({', '.join(f'{n} {v:.2f} ms' for n, v in limits.items())}); "
              f"overlapped bound Σ max(compute, memory, launch) = {step['overlap']:.2f} ms; weight-only launches "
              f"(prep) {total['prep']:.0f} of {total['launches']:.0f}")
        print(f"# K = {k}: {total['flop'] / (k * args.batch) / 1e9:.1f} GFLOP per training image "
              f"({total['flop'] / 1e9:.1f} GFLOP per step / {k * args.batch} trial-images); at the predicted step "
              f"that is {100 * step['c'] / step['pred']:.1f} % model FLOP utilisation")
        summary[k] = (step["pred"], worst)
    return verdict("predicted bf16 step, ms (K: value)", ", ".join(f"{k}: {v[0]:.2f}" for k, v in summary.items()),
                   "count fit exact at the check side (< 1e-6)", all(w < 1e-6 for _, w in summary.values()))

if __name__ == "__main__":
    sys.exit(main())
