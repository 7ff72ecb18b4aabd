#!/usr/bin/env python3
"""Export a trained f_W (model.h5 from dpst-dist) for deployment, through the Python
TransformerNet of dataprep/transformer_torch.py (strict load, same parameter names):

  export_model.py model.h5 OUT.onnx   ONNX (opset 17), dynamic batch, height and width
  export_model.py model.h5 OUT.pt     TorchScript (torch.jit.trace), any input size

Both take and return what dpst's f_W does: float32 RGB (B, 3, H, W) in [0, 1], H and W
multiples of 4 (dpst-stylize pads other sizes by mirroring and crops back); the output
is on the [0, 1] scale, unclamped. pytorch/examples' own TransformerNet works on 0-255
instead. After writing, the export is run again (onnxruntime for ONNX, torch.jit.load
for TorchScript) on a photo (--check-image, else a seeded random image) and compared
with the eager module; the largest difference is printed and must stay below --tol.

  --check-image PHOTO   the photo to check on (RGB, cropped to multiples of 4)
  --check-output F.h5   also write the photo (`input`) and the export's clamped output
                        (`output`), both (1, 3, H, W) float32, for comparison elsewhere
  --tol 1e-4            largest allowed max |export - eager| ([0, 1] scale)
  --check-style W,W,..  a model of several styles (its `styles` attribute): the style
                        weights to check with (scaled to sum to 1, as dpst-stylize --style);
                        default the first style. Its export takes the weights as a second
                        input, `style_weights` (N floats): one file serves every style and blend.

Runs in the project's environment (.venv/bin/python: torch, h5py, onnx, onnxruntime,
pillow pinned in launch/requirements.txt). Exit codes: 0 written and checked, 2 bad
arguments, 3 unreadable model or photo, 4 the check failed (the output is removed).
"""
import argparse
import os
import sys
import tempfile

import h5py
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from transformer_torch import TransformerNet  # noqa: E402


def fail(code, message):
    print(f"export_model.py: error: {message}", file=sys.stderr)
    sys.exit(code)


def load_model(path):
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
            state = {name: torch.from_numpy(np.asarray(f[name], dtype=np.float32)) for name in f.keys()
                     if isinstance(f[name], h5py.Dataset)}
    except (OSError, KeyError) as e:
        fail(3, f"{path}: not a readable dpst weight file ({e})")
    if attrs.get("network", "transform") != "transform":
        fail(3, f"{path}: holds network '{attrs.get('network')}', not a trained f_W (network 'transform')")
    try:
        width, blocks = int(attrs["width"]), int(attrs["residual_blocks"])
    except (KeyError, ValueError):
        fail(3, f"{path}: has no width / residual_blocks attributes; is it a model.h5 from dpst-dist?")
    names = [n for n in attrs.get("styles", "").split(",") if n]
    net = TransformerNet(width, blocks, max(1, len(names)))
    net.style_names = names
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        fail(3, f"{path}: does not match TransformerNet(width={width}, residual_blocks={blocks}): "
                f"{str(e).splitlines()[0]}")
    return net.eval()


def check_input(photo):
    if photo is None:
        g = torch.Generator().manual_seed(0)
        return torch.rand(1, 3, 96, 128, generator=g)
    from PIL import Image
    try:
        img = Image.open(photo).convert("RGB")
    except OSError as e:
        fail(3, f"{photo}: cannot read the check image ({e})")
    w, h = img.size
    w4, h4 = w - w % 4, h - h % 4
    if w4 < 16 or h4 < 16:
        fail(2, f"{photo}: {w}x{h} is too small to check on (needs at least 16x16)")
    x = torch.from_numpy(np.asarray(img.crop((0, 0, w4, h4)), dtype=np.float32) / 255.0)
    return x.permute(2, 0, 1).unsqueeze(0).contiguous()


def style_weights(net, text):
    """The --check-style weights of a many-style net (None for a one-style net)."""
    n = len(net.style_names)
    if n == 0:
        if text:
            fail(2, "--check-style: this model holds one style")
        return None
    if not text:
        return torch.nn.functional.one_hot(torch.tensor(0), n).float()
    try:
        w = torch.tensor([float(v) for v in text.split(",")])
    except ValueError:
        fail(2, f"--check-style {text}: give {n} comma-separated numbers")
    if w.numel() != n or (w < 0).any() or w.sum() <= 0:
        fail(2, f"--check-style {text}: give {n} numbers >= 0 that do not all vanish (styles: {', '.join(net.style_names)})")
    return w / w.sum()


def inputs_of(x, w):
    return (x,) if w is None else (x, w)


def export_onnx(net, example, w, out):
    import warnings
    names = ["image"] if w is None else ["image", "style_weights"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's notes about InstanceNorm
        torch.onnx.export(net, inputs_of(example, w), out, dynamo=False, opset_version=17, input_names=names,
                          output_names=["stylized"],
                          dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                        "stylized": {0: "batch", 2: "height", 3: "width"}})


def run_onnx(path, x, w):
    import onnxruntime
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    feed = {"image": x.numpy()}
    if w is not None:
        feed["style_weights"] = w.numpy()
    return torch.from_numpy(session.run(None, feed)[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--check-image")
    parser.add_argument("--check-output")
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--check-style")
    args = parser.parse_args()
    kind = os.path.splitext(args.out)[1].lower()
    if kind not in (".onnx", ".pt"):
        fail(2, f"{args.out}: the output must end in .onnx (ONNX) or .pt (TorchScript)")
    if not os.path.isfile(args.model):
        fail(3, f"{args.model}: no such model file")

    torch.set_grad_enabled(False)
    net = load_model(args.model)
    x = check_input(args.check_image)
    w = style_weights(net, args.check_style)
    # The second check also changes the style weights (to an even blend): they are an input.
    w2 = None if w is None else torch.full_like(w, 1.0 / w.numel())
    eager = net(*inputs_of(x, w))
    # Written under a temporary name beside OUT and renamed once checked: never half a file.
    folder = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(args.out) + ".", suffix=kind, dir=folder)
    os.close(fd)
    try:
        x2 = torch.rand(1, 3, 76, 52)
        if kind == ".onnx":
            export_onnx(net, torch.rand(1, 3, 64, 64), w, tmp)
            exported = run_onnx(tmp, x, w)
            # A second size proves the height and width are dynamic.
            diff2 = (run_onnx(tmp, x2, w2) - net(*inputs_of(x2, w2))).abs().max().item()
        else:
            traced = torch.jit.trace(net, inputs_of(torch.rand(1, 3, 64, 64), w))
            traced.save(tmp)
            loaded = torch.jit.load(tmp)
            exported = loaded(*inputs_of(x, w))
            diff2 = (loaded(*inputs_of(x2, w2)) - net(*inputs_of(x2, w2))).abs().max().item()
        diff = (exported - eager).abs().max().item()
        print(f"{args.out}: {'ONNX' if kind == '.onnx' else 'TorchScript'} export of {args.model}; "
              f"max |export - eager| = {diff:.3g} on {tuple(x.shape)}, {diff2:.3g} on (1, 3, 76, 52)")
        if not (diff < args.tol and diff2 < args.tol):
            fail(4, f"the export differs from the eager module by {max(diff, diff2):.3g} (--tol {args.tol})")
        if args.check_output:
            with h5py.File(args.check_output, "w") as f:
                f["input"] = x.numpy()
                f["output"] = exported.clamp(0, 1).numpy()
        os.replace(tmp, args.out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


if __name__ == "__main__":
    main()
