#!/usr/bin/env python3
"""Convert pretrained weights once into dpst's HDF5 weight files.

Run where PyTorch is installed: the project's environment (.venv/bin/python, made by
launch/install-deps.sh) or any Python with torch and h5py. The output has one float32 dataset
per parameter/buffer at the file's root, keyed by its torchvision-style name, plus root
attributes (network, preprocessing, source) that the C++ loader reads. Check a result
with `dpst-weights check --net NET OUT.h5` before spending GPU hours.

  convert_weights.py vgg16 vgg16-397923af.pth vgg16.h5
      torchvision's VGG16 (ImageNet). Download once from
      https://download.pytorch.org/models/vgg16-397923af.pth (what
      torchvision.models.vgg16(pretrained=True) fetches). Both the zip and the legacy
      torch.save serialisations load. Only features.0..features.21 are kept (the loss
      network ends at relu4_3); the rest is dropped. Preprocessing: imagenet.

  convert_weights.py vgg16-keras vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 vgg16.h5
      Keras' VGG16 "notop" weights (keras.applications.VGG16(include_top=False), from
      https://storage.googleapis.com/tensorflow/keras-applications/vgg16/). Kernels are
      transposed HWIO -> OIHW. These weights expect caffe-style input (BGR, 0-255,
      mean-subtracted), recorded as preprocessing=caffe_bgr; the C++ VGG16 applies it.

  convert_weights.py hourglass hourglass.pth depth.h5 [--by-order]
      Chen et al. 2016 "hourglass3" depth network (original Torch7 weights from
      princeton-vl/relative_depth, "NYU_FCRN"/"hourglass3" models) as a PyTorch state
      dict, with the names of dataprep/hourglass_torch.py (the same as the C++ net).
      A port with other names: --by-order maps tensors by position (same module order
      as the table in DESIGN.md section 5), checking every shape, and prints the map.

  convert_weights.py transform model.pth fw.h5 [--io-range 0-1|0-255]
      An f_W in pytorch/examples' TransformerNet layout (any width / residual block
      count, inferred). dpst's f_W works on RGB in [0, 1]; pytorch/examples' own models
      are trained on 0-255 and are recorded as such (the C++ side refuses them).
"""
import argparse
import os
import re
import sys
from collections import OrderedDict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

FORMAT = "dpst-weights-1"
VGG_CONVS = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21]
VGG_SHAPES = OrderedDict()
_cin = 3
for _idx, _cout in zip(VGG_CONVS, [64, 64, 128, 128, 256, 256, 256, 512, 512, 512]):
    VGG_SHAPES["features.%d.weight" % _idx] = (_cout, _cin, 3, 3)
    VGG_SHAPES["features.%d.bias" % _idx] = (_cout,)
    _cin = _cout


class ConversionError(Exception):
    pass


def load_state_dict(path):
    import torch

    try:
        obj = torch.load(path, map_location="cpu")  # zip and legacy serialisations alike
    except Exception as e:  # noqa: BLE001 - report any unpickling failure with the path
        raise ConversionError("cannot read '%s' as a PyTorch file: %s" % (path, e))
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if hasattr(obj, "state_dict") and not isinstance(obj, dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise ConversionError("'%s' holds a %s, not a state dict" % (path, type(obj).__name__))
    out = OrderedDict()
    for k, v in obj.items():
        if hasattr(v, "numpy"):
            out[k[len("module."):] if k.startswith("module.") else k] = v.detach().cpu().numpy()
    return out


def check_against(tensors, expected, source):
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    shapes = ["%s: %s in the file, %s expected" % (k, tuple(tensors[k].shape), tuple(s))
              for k, s in expected.items() if k in tensors and tuple(tensors[k].shape) != tuple(s)]
    if missing or unexpected or shapes:
        lines = ["'%s' does not match the network:" % source]
        for title, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatches", shapes)):
            if items:
                lines.append("  %s (%d):" % (title, len(items)))
                lines += ["    " + i for i in items]
        raise ConversionError("\n".join(lines))


def write_h5(path, tensors, attrs):
    import h5py

    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for name, value in tensors.items():
            arr = np.asarray(value)
            arr = arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(np.float32)
            f.create_dataset(name, data=np.array(arr, order="C"))  # keeps 0-d tensors 0-d
        for k, v in attrs.items():
            f.attrs[k] = str(v)
        f.attrs["format"] = FORMAT
    os.replace(tmp, path)
    print("wrote %s: %d tensors, %d values" % (path, len(tensors), sum(np.asarray(v).size for v in tensors.values())))


def convert_vgg16(args):
    sd = load_state_dict(args.input)
    kept = OrderedDict((k, sd[k]) for k in VGG_SHAPES if k in sd)
    dropped = [k for k in sd if k not in VGG_SHAPES]
    bad = [k for k in dropped if not re.match(r"^(features\.(2[2-9]|3\d)\.|classifier\.)", k)]
    if bad:
        raise ConversionError("'%s' has keys a torchvision VGG16 does not: %s" % (args.input, ", ".join(bad)))
    check_against(kept, VGG_SHAPES, args.input)
    if dropped:
        print("dropped %d tensors after relu4_3 (features.24+ and classifier)" % len(dropped))
    write_h5(args.output, kept, {"network": "vgg16", "preprocessing": "imagenet",
                                 "source": "torchvision " + os.path.basename(args.input)})


def convert_vgg16_keras(args):
    import h5py

    kept = OrderedDict()
    with h5py.File(args.input, "r") as f:
        root = f["model_weights"] if "model_weights" in f else f
        convs = [(b, c) for b, n in ((1, 2), (2, 2), (3, 3), (4, 3)) for c in range(1, n + 1)]
        for (b, c), idx in zip(convs, VGG_CONVS):
            layer = "block%d_conv%d" % (b, c)
            if layer not in root:
                raise ConversionError("'%s' has no layer '%s': not Keras VGG16 weights" % (args.input, layer))
            found = {}

            def collect(name, obj):
                if hasattr(obj, "shape"):
                    found[name.split("/")[-1]] = obj[()]
                return None  # keep visiting

            root[layer].visititems(collect)
            kernel = next((v for k, v in found.items() if k.startswith("kernel") or "_W" in k), None)
            bias = next((v for k, v in found.items() if k.startswith("bias") or "_b" in k), None)
            if kernel is None or bias is None:
                raise ConversionError("'%s': layer %s has no kernel/bias (found %s)" % (args.input, layer, sorted(found)))
            kept["features.%d.weight" % idx] = np.transpose(kernel, (3, 2, 0, 1))  # HWIO -> OIHW
            kept["features.%d.bias" % idx] = bias
    check_against(kept, VGG_SHAPES, args.input)
    write_h5(args.output, kept, {"network": "vgg16", "preprocessing": "caffe_bgr",
                                 "source": "keras " + os.path.basename(args.input)})


def convert_hourglass(args):
    import hourglass_torch

    ref = hourglass_torch.Hourglass().state_dict()
    expected = OrderedDict((k, tuple(v.shape)) for k, v in ref.items())
    sd = load_state_dict(args.input)
    if args.by_order:
        if len(sd) != len(expected):
            raise ConversionError("'%s' has %d tensors, the hourglass %d: cannot map by order"
                                  % (args.input, len(sd), len(expected)))
        mapped = OrderedDict()
        for (src, value), (dst, shape) in zip(sd.items(), expected.items()):
            if tuple(value.shape) != shape:
                raise ConversionError("by order: %s %s cannot be %s %s" % (src, tuple(value.shape), dst, shape))
            mapped[dst] = value
            print("  %s -> %s" % (src, dst))
        sd = mapped
    check_against(sd, expected, args.input)
    write_h5(args.output, OrderedDict((k, sd[k]) for k in expected),
             {"network": "hourglass", "preprocessing": "rgb_0_1",
              "source": "hourglass " + os.path.basename(args.input)})


def convert_transform(args):
    import transformer_torch

    sd = load_state_dict(args.input)
    # Old pytorch/examples checkpoints carry InstanceNorm running stats; the net has none.
    sd = OrderedDict((k, v) for k, v in sd.items() if not re.search(r"in\d+\.running_(mean|var)$", k))
    if "conv1.conv2d.weight" not in sd:
        raise ConversionError("'%s' has no conv1.conv2d.weight: not a TransformerNet" % args.input)
    width = sd["conv1.conv2d.weight"].shape[0]
    blocks = 0
    while "res%d.conv1.conv2d.weight" % (blocks + 1) in sd:
        blocks += 1
    ref = transformer_torch.TransformerNet(width, blocks).state_dict()
    check_against(sd, OrderedDict((k, tuple(v.shape)) for k, v in ref.items()), args.input)
    write_h5(args.output, OrderedDict((k, sd[k]) for k in ref),
             {"network": "transform", "preprocessing": "rgb_0_1" if args.io_range == "0-1" else "rgb_0_255",
              "layout": "pytorch/examples fast_neural_style TransformerNet",
              "width": str(width), "residual_blocks": str(blocks),
              "source": "transform " + os.path.basename(args.input)})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind, helptext in (("vgg16", "torchvision VGG16 .pth"), ("vgg16-keras", "Keras VGG16 notop .h5"),
                           ("hourglass", "hourglass state dict .pth"), ("transform", "TransformerNet state dict .pth")):
        p = sub.add_parser(kind, help=helptext)
        p.add_argument("input")
        p.add_argument("output")
        if kind == "hourglass":
            p.add_argument("--by-order", action="store_true", help="map a port's tensors by position")
        if kind == "transform":
            p.add_argument("--io-range", choices=["0-1", "0-255"], default="0-1",
                           help="image scale the model was trained on (dpst: 0-1; pytorch/examples: 0-255)")
    args = parser.parse_args(argv)
    try:
        {"vgg16": convert_vgg16, "vgg16-keras": convert_vgg16_keras, "hourglass": convert_hourglass,
         "transform": convert_transform}[args.kind](args)
    except ConversionError as e:
        print("convert_weights.py: error: %s" % e, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
