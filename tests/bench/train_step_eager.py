#!/usr/bin/env python3
"""PyTorch eager reference of one dpst-dist training step, timed per phase, to run beside
dpst on the same device (standard library + torch + torchvision + numpy).

A step, as src/train/pack_trainer.cpp runs it on one rank for a pack of --trials K:
input (page-locked batch to the device) | targets (VGG16(x) relu1_2..relu4_3 and hourglass(x)
`output`, no_grad, once per pack) | fw (each trial's f_W) | lossnets (VGG16 and hourglass on
y; K > 1 joint: on cat(y_1..y_K); then the DESIGN.md §6 terms) | backward | agree (non-finite
flags read on the host) | adam (each trial's Adam over trained_parameters(), zero_grad).
Networks: dataprep/transformer_torch.py seeded by torch.manual_seed(run.seed) as dpst does;
torchvision's VGG16 `features` (out-of-place ReLUs, as src/models/vgg16.cpp); the hourglass of
dataprep/hourglass_torch.py run as src/models/hourglass.cpp runs it (BatchNorm folded at every
forward, each inception's 1x1 convs stacked). Loss nets: det_init(seed 0), what
loss_nets.allow_random_init gives dpst (pretrained weights cost the same). λ and layers: the
registry defaults. bf16 = autocast on the forwards; weights, grads, Adam, loss terms fp32.
Inputs: random uint8 images / 255. Style: decoded by torchvision.io, else PIL, else a
synthetic gradient (the preamble says which), shorter side to --style-size by OpenCV's
INTER_AREA rule (exact for integer factors such as candy.jpg 128 -> 256).

    python3 tests/bench/train_step_eager.py --device cuda --precision bf16 --json eager.json
    python3 tests/bench/train_step_eager.py --device cpu --size 32 --batch 1 --width 8 --blocks 1 --steps 3
--json gets the per-phase means, images/s and the model FLOP per training image (one more,
untimed step under FlopCounterMode). Loss-term parity with dpst-dist: train_step_parity.py.
"""
import argparse
import functools
import json
import math
import operator
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:0] = [HERE, os.path.join(ROOT, "dataprep")]
import detinit_torch as det  # noqa: E402
import hourglass_torch  # noqa: E402
import transformer_torch  # noqa: E402
from bench_report import Table, verdict  # noqa: E402

LOSS_NET_SEED = 0  # models::kLossNetRandomSeed
LAMBDA = {"content": 1.0e5, "style": 1.0e10, "depth": 2.8e5, "tv": 0.0}  # src/config/registry.cpp
CONTENT_LAYERS, STYLE_LAYERS, DEPTH_LAYERS = ["relu2_2"], ["relu1_2", "relu2_2", "relu3_3", "relu4_3"], ["output"]
VGG_TAP_INDEX = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
TERMS = ("content", "style", "depth", "tv", "total")  # losses::kTermNames
PHASES = ("input", "targets", "fw", "lossnets", "backward", "agree", "adam")
KEYS = ("size", "batch", "width", "blocks", "trials", "precision", "steps", "warmup")  # of --json
DEFAULT_STYLE = os.path.join(ROOT, "tests", "fixtures", "demo", "styles", "candy.jpg")


# ---- networks ---------------------------------------------------------------------
def make_vgg16():
    import torchvision
    holder = nn.Module()  # so parameter names are "features.N.*", the names det_init seeds by
    holder.features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])[:23]
    for m in holder.features:
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return det.det_init_(holder, LOSS_NET_SEED).requires_grad_(False).eval()


_MEAN_STD = {}


def vgg_taps(vgg, x, wanted):
    key = (x.device, x.dtype)  # Vgg16Impl::preprocess caches mean/std in x's dtype
    if key not in _MEAN_STD:
        _MEAN_STD[key] = [torch.tensor(v, device=x.device).view(1, 3, 1, 1).to(x.dtype)
                          for v in ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    mean, std = _MEAN_STD[key]
    y, taps, last = (x - mean) / std, {}, max(VGG_TAP_INDEX[n] for n in wanted)
    for i in range(last + 1):
        y = vgg.features[i](y)
        taps.update({n: y for n in wanted if VGG_TAP_INDEX[n] == i})
    return taps


def folded(cb):
    """ConvBnImpl::folded: eval BatchNorm folded into the conv's weight and bias."""
    bn = cb.bn
    g = torch.rsqrt(bn.running_var + bn.eps)
    bias = cb.conv.bias - bn.running_mean
    if bn.affine:
        g = g * bn.weight
        bias = bias * g + bn.bias
    else:
        bias = bias * g
    return cb.conv.weight * g.view(-1, 1, 1, 1), bias


def conv_bn(cb, x):
    w, b = folded(cb)
    return F.relu(F.conv2d(x, w, b, padding=cb.conv.kernel_size[0] // 2))


def inception(m, x):
    """InceptionImpl::forward: b0 and the branch reduces as one stacked 1x1 conv."""
    pairs = [folded(m.b0)] + [folded(getattr(m, "b%d_reduce" % i)) for i in range(1, m.n + 1)]
    reduced = F.relu(F.conv2d(x, torch.cat([w for w, _ in pairs]), torch.cat([b for _, b in pairs])))
    parts = reduced.split([w.shape[0] for w, _ in pairs], 1)
    return torch.cat([parts[0]] + [conv_bn(getattr(m, "b%d" % i), parts[i]) for i in range(1, m.n + 1)], 1)


def hg_level(hg, k, x):
    """HourglassImpl::level: skip(x) + up2(post(L<k-1>(pre(pool(x)))))."""
    lv, chain = getattr(hg, "L%d" % k), lambda mods, t: functools.reduce(lambda a, m: inception(m, a), mods, t)
    p = chain(lv.pre, F.max_pool2d(x, 2, 2) if k >= 3 else F.avg_pool2d(x, 2, 2))
    p = chain(lv.post, hg_level(hg, k - 1, p) if k > 1 else p)
    return chain(lv.skip, x) + F.interpolate(p, scale_factor=2.0, mode="nearest")


def hourglass_taps(hg, x):
    """HourglassImpl::forward_taps for the default depth_layers [output] (the whole net)."""
    return {"output": hg.head(hg_level(hg, 4, conv_bn(hg.stem, x)))}


def normalised_away(blocks):
    """TransformNetImpl::normalised_away_parameters: zero true gradient, never trained."""
    names = ["%s.conv2d.bias" % m for m in ("conv1", "conv2", "conv3", "deconv1", "deconv2")]
    per_block = ("conv1.conv2d.bias", "conv2.conv2d.bias", "in2.bias")
    return names + ["res%d.%s" % (i, s) for i in range(1, blocks + 1) for s in per_block]


def make_trial(args, grams, device):
    torch.manual_seed(args.seed)  # run.seed, then LibTorch's default init: the same draws as here
    net = transformer_torch.TransformerNet(args.width, args.blocks).to(device)
    skip = set(normalised_away(args.blocks))
    for n, p in net.named_parameters():
        p.requires_grad_(n not in skip)
    trained = [p for n, p in net.named_parameters() if n not in skip]
    # foreach=False: the per-parameter loop of LibTorch's torch::optim::Adam.
    return {"net": net, "grams": grams, "adam": torch.optim.Adam(trained, lr=args.lr, foreach=False)}


# ---- losses (src/losses/terms.cpp) ---------------------------------------------------
def fp32(t):
    return t.float() if t.dtype in (torch.bfloat16, torch.float16) else t


def gram(f):
    b, c, h, w = f.shape
    f = fp32(f).reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def add_all(tensors):
    """Σ without Python's sum(), whose leading 0 + t would be one more kernel than dpst runs."""
    return functools.reduce(operator.add, tensors)


def loss_terms(y, vgg_out, depth_out, targets):
    t = {"content": add_all([(fp32(vgg_out[n]) - fp32(targets["vgg"][n])).pow(2).mean() for n in CONTENT_LAYERS]),
         "style": add_all([(gram(vgg_out[n]) - targets["grams"][n]).pow(2).mean() for n in STYLE_LAYERS]),
         "depth": add_all([(fp32(depth_out[n]) - fp32(targets["depth"][n])).pow(2).mean() for n in DEPTH_LAYERS])}
    y32 = fp32(y)
    t["tv"] = (y32[..., 1:] - y32[..., :-1]).pow(2).mean() + (y32[..., 1:, :] - y32[..., :-1, :]).pow(2).mean()
    t["total"] = torch.zeros((), device=y.device)  # TrialLoss: Σ λ·term over the terms with λ > 0
    for name in (n for n, lam in LAMBDA.items() if lam > 0):
        t["total"] = t["total"] + LAMBDA[name] * t[name]
    return t


# ---- style image ---------------------------------------------------------------------
def decode_style(path):
    """(H, W, 3) uint8 RGB and how it was decoded; a synthetic gradient if nothing can."""
    try:
        import torchvision.io as tio
        return tio.decode_image(tio.read_file(path), mode=tio.ImageReadMode.RGB).permute(1, 2, 0).numpy(), "torchvision.io"
    except Exception:  # noqa: BLE001 - any decoder problem falls through to the next decoder
        try:
            from PIL import Image
            return np.asarray(Image.open(path).convert("RGB")), "PIL"
        except Exception:  # noqa: BLE001
            g = np.add.outer(np.arange(128.0), np.arange(128.0))
            return np.stack([g, 254 - g, g[::-1]], -1).astype(np.uint8), "SYNTHETIC 128x128 gradient (no decoder)"


def area_weights(n_in, n_out):
    """(n_out, n_in) weights of cv::resize INTER_AREA along one axis."""
    o = np.arange(n_out)
    if n_out <= n_in:  # shrinking: the mean over the covered input area
        s, i = n_in / n_out, np.arange(n_in)[None]
        return np.clip(np.minimum((o[:, None] + 1) * s, i + 1) - np.maximum(o[:, None] * s, i), 0, None) / s
    inv = n_out / n_in  # enlarging: OpenCV's linear taps with its area-mode fraction (replication for x2)
    sx = np.floor(o / inv).astype(int)
    fx = (o + 1) - (sx + 1) * inv
    fx = np.where((fx <= 0) | (sx >= n_in - 1), 0.0, fx - np.floor(fx))
    w = np.zeros((n_out, n_in))
    np.add.at(w, (o, np.minimum(sx, n_in - 1)), 1 - fx)
    np.add.at(w, (o, np.minimum(sx + 1, n_in - 1)), fx)
    return w


def load_style(path, short_side):
    """data::load_style_image: shorter side to short_side (INTER_AREA), (1, 3, h, w) in [0, 1]."""
    img, how = decode_style(path)
    rows, cols = img.shape[:2]
    scale = short_side / min(rows, cols)
    w = short_side if cols <= rows else int(math.floor(cols * scale + 0.5))
    h = short_side if rows < cols else int(math.floor(rows * scale + 0.5))
    out = np.einsum("oh,hwc->owc", area_weights(rows, h), img.astype(np.float64))
    out = np.einsum("owc,pw->opc", out, area_weights(cols, w))
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    return torch.from_numpy(out).permute(2, 0, 1)[None].float() / 255.0, "%s, resized to %dx%d" % (how, w, h)


# ---- one step ------------------------------------------------------------------------
def setup(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cudnn.benchmark = True  # as dpst on GPUs (DESIGN.md §11)
    device = torch.device(args.device)
    vgg, hg = make_vgg16().to(device), det.det_init_(hourglass_torch.Hourglass(), LOSS_NET_SEED).requires_grad_(False)
    style, style_text = load_style(args.style, args.style_size)
    with torch.no_grad():  # Grams once per trial, fp32, no autocast (TrialLoss::from_config)
        grams = {n: gram(f) for n, f in vgg_taps(vgg, style.to(device), STYLE_LAYERS).items()}
    trials = [make_trial(args, grams, device) for _ in range(args.trials)]
    return {"vgg": vgg, "hg": hg.to(device), "trials": trials, "device": device, "bf16": args.precision == "bf16",
            "joint": args.trials > 1 and (device.type == "cuda" if args.joint is None else bool(args.joint)),
            "style_text": style_text}


def autocast(nets):
    return torch.autocast(nets["device"].type, dtype=torch.bfloat16, enabled=nets["bf16"])


def frozen_taps(nets, y):
    """VGG16 taps of the union content ∪ style layers (losses::union_of), hourglass `output`."""
    vgg_layers = CONTENT_LAYERS + [n for n in STYLE_LAYERS if n not in CONTENT_LAYERS]
    return vgg_taps(nets["vgg"], y, vgg_layers), hourglass_taps(nets["hg"], y)


def agree(terms, device):
    """PackTrainer::agree_on_step: non-finite flags per trial and term, read on the host."""
    flags = torch.zeros(len(terms) + 1, len(TERMS), device=device)
    for m, t in enumerate(terms):
        for j, name in enumerate(TERMS):
            flags[m, j] = torch.logical_not(torch.isfinite(t[name])).float()
    return flags.cpu()


def train_step(nets, x_host, mark):
    """One pack step (PackTrainer::train); mark(phase) is called when a phase's work is issued.
    Joint: every f_W, then cat(y_1..y_K) through the frozen nets, the agreement, ONE backward
    of Σ_m L_m. Per trial: each trial's forward and backward in turn, then the agreement."""
    x = x_host.to(nets["device"], non_blocking=True)
    mark("input")
    with autocast(nets), torch.no_grad():
        vgg_x, depth_x = frozen_taps(nets, x)
    mark("targets")
    joint, terms, b = nets["joint"], [], x.shape[0]
    for group in [nets["trials"]] if joint else [[t] for t in nets["trials"]]:
        with autocast(nets):
            ys = [t["net"](x) for t in group]
        mark("fw")
        with autocast(nets):
            vgg_y, depth_y = frozen_taps(nets, torch.cat(ys) if joint else ys[0])
        for m, (t, y) in enumerate(zip(group, ys)):  # models::slice_taps: trial m's rows (views)
            rows = lambda taps: {k: v.narrow(0, m * b, b) for k, v in taps.items()}  # noqa: E731
            terms.append(loss_terms(y, rows(vgg_y), rows(depth_y), {"vgg": vgg_x, "depth": depth_x, "grams": t["grams"]}))
        mark("lossnets")
        if not joint:
            terms[-1]["total"].backward()
            mark("backward")
    flags = agree(terms, x.device)
    mark("agree")
    if joint:
        add_all([t["total"] for t in terms]).backward()
        mark("backward")
    for t in nets["trials"]:
        t["adam"].step()
        t["adam"].zero_grad()
    mark("adam")
    return terms, flags


def timed_step(nets, x_host):
    """train_step with per-phase ms: CUDA events on CUDA, perf_counter on CPU (synchronous)."""
    cuda = nets["device"].type == "cuda"

    def now():
        if not cuda:
            return time.perf_counter()
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        return e

    start = time.perf_counter()
    marks = [(None, now())]
    terms, flags = train_step(nets, x_host, lambda phase: marks.append((phase, now())))
    if cuda:
        torch.cuda.synchronize()
    ms = dict.fromkeys(PHASES, 0.0)
    for (_, a), (phase, b) in zip(marks, marks[1:]):
        ms[phase] += a.elapsed_time(b) if cuda else (b - a) * 1e3
    ms["wall"] = (time.perf_counter() - start) * 1e3  # host clock around the whole step, synchronised
    return terms, not bool(flags.any()), ms


def random_batches(args, n):
    """Random uint8 images / 255 as the loader delivers them (page-locked on CUDA)."""
    g = torch.Generator().manual_seed(args.input_seed)
    xs = [torch.randint(0, 256, (args.batch, 3, args.size, args.size), generator=g, dtype=torch.uint8) for _ in range(n)]
    return [x.float().div(255).pin_memory() if args.device == "cuda" else x.float().div(255) for x in xs]


def parser():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--batch", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10, help="timed steps after the warm-up")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--trials", type=int, default=1, help="K trials in the pack (sweep.trials_per_pack)")
    ap.add_argument("--joint", type=int, choices=[0, 1], default=None,
                    help="pack_frozen_pass for K > 1 (default auto: joint on cuda, per trial on cpu)")
    ap.add_argument("--threads", type=int, default=0, help="intra-op threads (0: torch's default)")
    ap.add_argument("--style", default=DEFAULT_STYLE)
    ap.add_argument("--style-size", type=int, default=256, help="loss.style_size")
    ap.add_argument("--seed", type=int, default=42, help="run.seed (f_W init)")
    ap.add_argument("--lr", type=float, default=1.0e-3)
    ap.add_argument("--tv-weight", type=float, default=LAMBDA["tv"], help="loss.tv_weight (bench_gpu.py passes dpst's)")
    ap.add_argument("--input-seed", type=int, default=7)
    ap.add_argument("--json", help="write per-phase means, images/s and FLOP per image here")
    return ap


def preamble(args, nets, inputs):
    import torchvision
    dev = nets["device"]
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu (%d threads)" % torch.get_num_threads()
    print("# dpst training step, PyTorch eager reference (tests/bench/train_step_eager.py)")
    print(f"# device: {name}; torch {torch.__version__}, torchvision {torchvision.__version__}")
    print(f"# image {args.size}x{args.size}, batch {args.batch}, f_W width {args.width} blocks {args.blocks}, "
          f"{args.trials} trial(s) in the pack ({'joint' if nets['joint'] else 'per-trial'} frozen pass), "
          f"precision {'bf16 autocast (fp32 weights, Adam, loss terms)' if nets['bf16'] else 'fp32'}")
    print(f"# loss nets det_init seed {LOSS_NET_SEED} (random weights, same cost as pretrained); f_W seed {args.seed}; "
          f"λ {LAMBDA}; style {os.path.basename(args.style)}: {nets['style_text']}")
    print(f"# inputs: {inputs}")
    return name


def main():
    args = parser().parse_args()
    LAMBDA["tv"] = args.tv_weight
    nets = setup(args)
    batches = random_batches(args, min(args.steps + args.warmup, 4))
    name = preamble(args, nets, f"random uint8 images (seed {args.input_seed}) / 255, {len(batches)} batches reused; "
                                f"{args.steps} timed steps after {args.warmup} warm-up")
    times, finite, first = [], [], None
    for step in range(args.warmup + args.steps):
        terms, ok, t = timed_step(nets, batches[step % len(batches)])
        finite.append(ok)
        first = first or {k: float(v.detach()) for k, v in terms[0].items()}
        if step >= args.warmup:
            times.append(t)
    with FlopCounterMode(display=False) as flops:  # one more step, untimed: convolution and bmm FLOP for MFU
        timed_step(nets, batches[0])
    flop_per_image = flops.get_total_flops() / (args.trials * args.batch)
    with FlopCounterMode(display=False) as target_flops, autocast(nets), torch.no_grad():  # shared by a pack
        frozen_taps(nets, batches[0].to(nets["device"]))
    target_flop_per_image = target_flops.get_total_flops() / args.batch
    mean = {p: sum(t[p] for t in times) / len(times) for p in PHASES + ("wall",)}
    step_ms = sum(mean[p] for p in PHASES)
    table = Table(["phase", "mean", "min", "share"], ["", "ms", "ms", "%step"])
    table.print_header()
    for p in PHASES:
        table.print_row([p, f"{mean[p]:.3f}", f"{min(t[p] for t in times):.3f}", f"{100 * mean[p] / step_ms:.1f}"])
    table.print_row(["step", f"{step_ms:.3f}", f"{min(sum(t[p] for p in PHASES) for t in times):.3f}", "100.0"])
    table.print_row(["wall", f"{mean['wall']:.3f}", f"{min(t['wall'] for t in times):.3f}", ""])
    images_per_s = args.trials * args.batch * 1e3 / step_ms
    print("# first-step terms (trial 0): " + ", ".join(f"{k} {v:.6e}" for k, v in first.items()))
    print(f"# model FLOP per training image: {flop_per_image / 1e9:.2f} GFLOP (FlopCounterMode: convolutions, bmm)")
    print(f"# images/s : {images_per_s:.3f} ({args.batch * 1e3 / step_ms:.3f} per trial) from the phase sum; "
          f"{args.trials * args.batch * 1e3 / mean['wall']:.3f} from the wall clock")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "torch": torch.__version__, **{k: getattr(args, k) for k in KEYS},
                       "joint": nets["joint"], "phase_ms": {p: mean[p] for p in PHASES}, "step_ms": step_ms,
                       "wall_ms": mean["wall"], "images_per_s": images_per_s, "flop_per_image": flop_per_image,
                       "target_flop_per_image": target_flop_per_image,
                       "first_step_terms": first, "all_finite": all(finite)}, f, indent=1)
    return verdict("steps completed with finite loss", f"{sum(finite)}/{len(finite)}", "all", all(finite))


if __name__ == "__main__":
    sys.exit(main())
