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
      A port with other names: --by-order maps tensors by position (the module order
      given under the table in DESIGN.md section 5), checking every shape, and prints the map.

  convert_weights.py hourglass-t7 Best_model_period1.t7 depth.h5
      Chen et al.'s own hourglass3 weights: the Torch7 files of princeton-vl/relative_depth
      (https://vl-lab.eecs.umich.edu/data/nips2016/hourglass3.tar.gz; NYU, full NYU, DIW,
      NYU+DIW models), saved from a GPU (cudnn.* modules, CudaTensor storages). Read with
      torchfile; the module tree must be hourglass3.lua's, checked module by module, and
      is mapped by structure. depth_variant=hourglass3 (relative depth).

  convert_weights.py hourglass-megadepth best_generalization_net_G.pth depth.h5
      MegaDepth's weights (zhengqili/MegaDepth; http://www.cs.cornell.edu/projects/megadepth/
      dataset/models/best_generalization_net_G.pth): the state dict of pytorch_DIW_scratch,
      a nested nn.Sequential translation of hourglass3.lua (keys module.3.0.0.1.0.0.weight,
      ...), mapped by structure with strict shapes. depth_variant=megadepth: its head
      predicts log depth; dpst's `output` tap is exp of it (loss_nets.depth_net: megadepth).

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
             {"network": "hourglass", "preprocessing": "rgb_0_1", "depth_variant": "hourglass3",
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


# --- hourglass3 from Torch7 (.t7) and from MegaDepth (.pth) ---------------------------
# Both sources hold the tree of princeton-vl/relative_depth's hourglass3.lua (MegaDepth's
# pytorch_DIW_scratch.py is a machine translation of it into one nested nn.Sequential):
#   root      Sequential: conv 3->128 7x7, BN(128, affine), ReLU, level 4, conv 64->1 3x3
#   level k   Sequential: ConcatTable{pooled branch, same-resolution branch}, CAddTable
#   pooled    Sequential: pool 2x2, pre inceptions, level k-1 (k > 1), post inceptions, Up x2
#   same-res  Sequential: skip inceptions
#   inception Concat(2) of Sequentials: {conv 1x1, BN, ReLU} then per branch
#             {conv 1x1 in->r, BN, ReLU, conv kxk r->o, BN, ReLU}; BNs non-affine
# The two branches of a ConcatTable are in different orders at different levels (pooled
# first at L4/L3, same-resolution first at L2/L1), so the walkers below tell them apart by
# what they hold (a pooling first, or not), never by position. Pool kinds (max at L4/L3,
# avg at L2/L1) and inception shapes come from hourglass_torch.level_specs(), the layout of
# dpst's own network, so every tensor lands on the dpst name that computes with it.

T7_CONV = ("cudnn.SpatialConvolution", "nn.SpatialConvolution", "nn.SpatialConvolutionMM")
T7_BN = ("nn.SpatialBatchNormalization", "cudnn.SpatialBatchNormalization")
T7_RELU = ("cudnn.ReLU", "nn.ReLU")
T7_POOL = {"max": ("cudnn.SpatialMaxPooling", "nn.SpatialMaxPooling"),
           "avg": ("cudnn.SpatialAveragePooling", "nn.SpatialAveragePooling")}
T7_UP = ("nn.SpatialUpSamplingNearest",)
BN_EPS = 1e-5  # dpst's (and torch7 nn's default) BatchNorm epsilon


class TreeMismatch(ConversionError):
    def __init__(self, path, expected, found):
        super().__init__("%s: expected %s, found %s" % (path or "the root module", expected, found))


def _t7_shims():
    """torchfile 0.1.0 reads a storage with np.fromfile, which silently returns fewer
    values at the end of a truncated file, and views tensors into storages without a
    bounds check. Re-register its float storage/tensor readers with both checks (same
    format, same calls into torchfile's reader)."""
    import torchfile

    def storage_reader(dtype):
        def read(reader, version):
            size = reader.read_long()
            data = np.fromfile(reader.f, dtype=dtype, count=size)
            if data.size != size:
                raise ConversionError("file ends inside a storage (%d of %d values): truncated" % (data.size, size))
            return data
        return read

    def tensor_reader(dtype):
        def read(reader, version):
            ndim = reader.read_int()
            size = reader.read_long_array(ndim)
            stride = reader.read_long_array(ndim)
            offset = reader.read_long() - 1
            storage = reader.read_obj()
            if storage is None or ndim == 0:
                return np.empty((0,), dtype=dtype)
            last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(n > 0 for n in size) else offset - 1
            if offset < 0 or min(stride) < 0 or last >= storage.size:
                raise ConversionError("a %s of size %s reaches past its storage of %d values" % (
                    np.dtype(dtype).name, tuple(size), storage.size))
            return np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                                   strides=[storage.dtype.itemsize * s for s in stride])
        return read

    for prefix, dtype in (("torch.Float", np.float32), ("torch.Double", np.float64),
                          ("torch.Cuda", np.float32), ("torch.CudaDouble", np.float64)):
        torchfile.type_handlers[(prefix + "Storage").encode()] = storage_reader(dtype)
        torchfile.type_handlers[(prefix + "Tensor").encode()] = tensor_reader(dtype)
    return torchfile


def load_t7(path):
    torchfile = _t7_shims()
    import struct

    if not os.path.isfile(path):
        raise ConversionError("'%s' does not exist" % path)
    try:
        return torchfile.load(path)
    except ConversionError as e:
        raise ConversionError("'%s': %s" % (path, e))
    except (struct.error, EOFError, MemoryError, OverflowError, ValueError, torchfile.T7ReaderException) as e:
        raise ConversionError("cannot read '%s' as a Torch7 binary file (truncated or not a .t7): %s: %s"
                              % (path, type(e).__name__, e))


def _t7_class(m):
    name = m.torch_typename() if hasattr(m, "torch_typename") else None
    if isinstance(name, bytes):
        name = name.decode("utf-8", "replace")
    return name or type(m).__name__


def _t7_field(m, key):
    return m._obj.get(key.encode()) if hasattr(m, "_obj") and isinstance(m._obj, dict) else None


def _t7_num(m, key, default=None):
    v = _t7_field(m, key)
    return default if v is None else v


def _t7_describe(m):
    cls = _t7_class(m)
    if cls in T7_CONV:
        return "%s %s->%s %sx%s" % (cls, _t7_num(m, "nInputPlane"), _t7_num(m, "nOutputPlane"),
                                    _t7_num(m, "kH"), _t7_num(m, "kW"))
    if cls in T7_BN:
        rm = _t7_field(m, "running_mean")
        return "%s %s%s" % (cls, getattr(rm, "size", "?"), " (affine)" if _t7_field(m, "weight") is not None else "")
    mods = _t7_field(m, "modules")
    if isinstance(mods, list):
        return "%s of %d modules" % (cls, len(mods))
    return cls


def _t7_array(m, key, path, shape):
    """A float tensor field as a float32 array of `shape` (a conv weight may be stored flat
    as nOut x (nIn*kH*kW), as nn.SpatialConvolutionMM does)."""
    v = _t7_field(m, key)
    want = int(np.prod(shape))
    if not isinstance(v, np.ndarray) or v.dtype.kind != "f":
        raise TreeMismatch(path + "." + key, "a float tensor of shape %s" % (tuple(shape),),
                           "nothing" if v is None else type(v).__name__)
    if tuple(v.shape) != tuple(shape) and not (v.size == want and v.ndim == 2 and len(shape) == 4
                                               and v.shape[0] == shape[0]):
        raise TreeMismatch(path + "." + key, "shape %s" % (tuple(shape),), "shape %s" % (tuple(v.shape),))
    return np.ascontiguousarray(v, dtype=np.float32).reshape(shape)


class T7Walker:
    """Checks a torchfile tree against hourglass3 and collects dpst-named tensors."""

    def __init__(self):
        self.out = OrderedDict()
        self.legacy_std = 0

    def expect_class(self, m, path, classes, expected):
        if _t7_class(m) not in classes:
            raise TreeMismatch(path, expected, _t7_describe(m))

    def children(self, m, path, classes, expected, count):
        self.expect_class(m, path, classes, expected)
        mods = _t7_field(m, "modules")
        if not isinstance(mods, list) or len(mods) != count:
            raise TreeMismatch(path, "%s of %d modules" % (expected, count), _t7_describe(m))
        return [(c, "%s%smodules[%d]" % (path, "." if path else "", i + 1)) for i, c in enumerate(mods)]

    def conv(self, m, path, cin, cout, k, name):
        expected = "cudnn.SpatialConvolution %d->%d %dx%d [dpst %s]" % (cin, cout, k, k, name)
        self.expect_class(m, path, T7_CONV, expected)
        fields = {"nInputPlane": cin, "nOutputPlane": cout, "kW": k, "kH": k, "dW": 1, "dH": 1,
                  "padW": k // 2, "padH": k // 2}
        for key, want in fields.items():
            got = _t7_num(m, key, 1 if key in ("dW", "dH") else 0 if key.startswith("pad") else None)
            if got != want:
                raise TreeMismatch(path, "%s (%s = %d)" % (expected, key, want), "%s (%s = %s)" % (_t7_describe(m), key, got))
        if _t7_num(m, "groups", 1) != 1:
            raise TreeMismatch(path, expected + " (groups = 1)", "groups = %s" % _t7_num(m, "groups"))
        self.out[name + ".weight"] = _t7_array(m, "weight", path, (cout, cin, k, k))
        self.out[name + ".bias"] = _t7_array(m, "bias", path, (cout,))

    def bn(self, m, path, n, affine, name):
        expected = "nn.SpatialBatchNormalization %d%s [dpst %s]" % (n, " (affine)" if affine else " (affine = false)", name)
        self.expect_class(m, path, T7_BN, expected)
        has_weight = _t7_field(m, "weight") is not None
        if has_weight != affine:
            raise TreeMismatch(path, expected, _t7_describe(m))
        eps = float(_t7_num(m, "eps", BN_EPS))
        mean = _t7_array(m, "running_mean", path, (n,))
        if _t7_field(m, "running_var") is not None:
            var = _t7_array(m, "running_var", path, (n,)).astype(np.float64) + eps
        elif _t7_field(m, "running_std") is not None:  # nn before mid-2016 kept 1/sqrt(var + eps)
            std = _t7_array(m, "running_std", path, (n,)).astype(np.float64)
            var = 1.0 / np.square(std)
            self.legacy_std += 1
        else:
            raise TreeMismatch(path + ".running_var", "a float tensor of shape (%d,)" % n, "nothing")
        # dpst's BatchNorm divides by sqrt(var + 1e-5): fold a file's other eps into var.
        self.out[name + ".running_mean"] = mean
        self.out[name + ".running_var"] = (var - BN_EPS).astype(np.float32)
        self.out[name + ".num_batches_tracked"] = np.zeros((), dtype=np.int64)
        if affine:
            self.out[name + ".weight"] = _t7_array(m, "weight", path, (n,))
            self.out[name + ".bias"] = _t7_array(m, "bias", path, (n,))

    def relu(self, m, path):
        self.expect_class(m, path, T7_RELU, "cudnn.ReLU")

    def conv_bn_relu(self, mods, cin, cout, k, name):
        (c, cp), (b, bp), (r, rp) = mods
        self.conv(c, cp, cin, cout, k, name + ".conv")
        self.bn(b, bp, cout, False, name + ".bn")
        self.relu(r, rp)

    def inception(self, m, path, spec, name):
        cin, a, branches = spec
        desc = "nn.Concat(2) inception %d->%d with %d branches" % (
            cin, a + sum(o for _, _, o in branches), len(branches) + 1)
        kids = self.children(m, path, ("nn.Concat", "nn.DepthConcat"), desc, len(branches) + 1)
        if _t7_num(m, "dimension", 2) != 2:
            raise TreeMismatch(path, desc, "%s along dimension %s" % (_t7_describe(m), _t7_num(m, "dimension")))
        first, fp = kids[0]
        self.conv_bn_relu(self.children(first, fp, ("nn.Sequential",), "nn.Sequential conv-BN-ReLU", 3), cin, a, 1,
                          name + ".b0")
        for i, ((k, r, o), (b, bp)) in enumerate(zip(branches, kids[1:]), start=1):
            mods = self.children(b, bp, ("nn.Sequential",), "nn.Sequential 1x1-BN-ReLU-%dx%d-BN-ReLU" % (k, k), 6)
            self.conv_bn_relu(mods[:3], cin, r, 1, "%s.b%d_reduce" % (name, i))
            self.conv_bn_relu(mods[3:], r, o, k, "%s.b%d" % (name, i))

    def level(self, m, path, k, specs):
        spec = specs[k]
        (table, tp), (add, ap) = self.children(m, path, ("nn.Sequential",), "nn.Sequential{ConcatTable, CAddTable} (level L%d)" % k, 2)
        self.expect_class(add, ap, ("nn.CAddTable",), "nn.CAddTable")
        branches = self.children(table, tp, ("nn.ConcatTable",), "nn.ConcatTable of 2 branches (level L%d)" % k, 2)

        def first_is_pool(b):
            mods = _t7_field(b, "modules")
            return isinstance(mods, list) and mods and any(_t7_class(mods[0]) in c for c in T7_POOL.values())

        pooled = [b for b in branches if first_is_pool(b[0])]
        if len(pooled) != 1:
            raise TreeMismatch(tp, "one pooled branch and one same-resolution branch (level L%d)" % k,
                               "%d branches starting with a pooling" % len(pooled))
        (pm, pp), (sm, sp) = pooled[0], next(b for b in branches if b is not pooled[0])
        n_inner = 1 if k > 1 else 0
        mods = self.children(pm, pp, ("nn.Sequential",), "nn.Sequential pooled branch of level L%d" % k,
                             2 + len(spec["pre"]) + n_inner + len(spec["post"]))
        pool, pool_path = mods[0]
        kind = spec["pool"]
        self.expect_class(pool, pool_path, T7_POOL[kind], "%s 2x2 stride 2" % T7_POOL[kind][0])
        for key, want in (("kW", 2), ("kH", 2), ("dW", 2), ("dH", 2), ("padW", 0), ("padH", 0)):
            if _t7_num(pool, key, 0 if key.startswith("pad") else None) != want:
                raise TreeMismatch(pool_path, "%s 2x2 stride 2 (%s = %d)" % (T7_POOL[kind][0], key, want),
                                   "%s = %s" % (key, _t7_num(pool, key)))
        if kind == "avg" and _t7_num(pool, "divide", True) is False:
            raise TreeMismatch(pool_path, "an averaging pool (divide = true)", "divide = false")
        i = 1
        for name, s in spec["pre"]:
            self.inception(*mods[i], s, name)
            i += 1
        if k > 1:
            self.level(*mods[i], k - 1, specs)
            i += 1
        for name, s in spec["post"]:
            self.inception(*mods[i], s, name)
            i += 1
        up, up_path = mods[i]
        self.expect_class(up, up_path, T7_UP, "nn.SpatialUpSamplingNearest(2)")
        if _t7_num(up, "scale_factor", 2) != 2:
            raise TreeMismatch(up_path, "nn.SpatialUpSamplingNearest(2)", "scale_factor = %s" % _t7_num(up, "scale_factor"))
        smods = self.children(sm, sp, ("nn.Sequential",), "nn.Sequential same-resolution branch of level L%d" % k,
                              len(spec["skip"]))
        for (name, s), (c, cp) in zip(spec["skip"], smods):
            self.inception(c, cp, s, name)

    def root(self, m, specs):
        mods = self.children(m, "", ("nn.Sequential",), "nn.Sequential (hourglass3: conv, BN, ReLU, level L4, conv)", 5)
        self.conv(*mods[0], 3, 128, 7, "stem.conv")
        self.bn(*mods[1], 128, True, "stem.bn")
        self.relu(*mods[2])
        self.level(*mods[3], 4, specs)
        self.conv(*mods[4], 64, 1, 3, "head")


def hourglass_expected():
    import hourglass_torch

    ref = hourglass_torch.Hourglass().state_dict()
    return OrderedDict((k, tuple(v.shape)) for k, v in ref.items())


def write_hourglass(args, tensors, variant, source, extra=None):
    expected = hourglass_expected()
    check_against(tensors, expected, args.input)  # a walker bug must never reach the file
    attrs = {"network": "hourglass", "preprocessing": "rgb_0_1", "depth_variant": variant, "source": source}
    attrs.update(extra or {})
    write_h5(args.output, OrderedDict((k, tensors[k]) for k in expected), attrs)


def convert_hourglass_t7(args):
    import hourglass_torch

    tree = load_t7(args.input)
    walker = T7Walker()
    try:
        walker.root(tree, hourglass_torch.level_specs())
    except TreeMismatch as e:
        raise ConversionError("'%s' is not Chen et al.'s hourglass3 (relative_depth hourglass3.lua): %s" % (args.input, e))
    if walker.legacy_std:
        print("%d BatchNorm layers stored running_std (nn before 2016); converted to running_var" % walker.legacy_std)
    write_hourglass(args, walker.out, "hourglass3", "hourglass-t7 " + os.path.basename(args.input),
                    {"output": "relative depth (hourglass3.lua's model output)"})


class KeyTree:
    """A state dict's dotted keys as a tree, checked node by node; every problem is kept."""

    def __init__(self, sd):
        self.sd = sd
        self.used = set()
        self.problems = []
        self.out = OrderedDict()

    def has_prefix(self, prefix):
        return any(k.startswith(prefix + ".") for k in self.sd)

    def take(self, key, shape, dpst):
        if key not in self.sd:
            self.problems.append("missing %s (%s, shape %s)" % (key, dpst, tuple(shape)))
            return
        self.used.add(key)
        v = np.asarray(self.sd[key])
        if tuple(v.shape) != tuple(shape):
            self.problems.append("%s (%s): shape %s, expected %s" % (key, dpst, tuple(v.shape), tuple(shape)))
            return
        self.out[dpst] = v

    def conv(self, key, cin, cout, k, dpst):
        self.take(key + ".weight", (cout, cin, k, k), dpst + ".weight")
        self.take(key + ".bias", (cout,), dpst + ".bias")

    def bn(self, key, n, affine, dpst):
        for stat in ("running_mean", "running_var"):
            self.take("%s.%s" % (key, stat), (n,), "%s.%s" % (dpst, stat))
        if affine:
            self.take(key + ".weight", (n,), dpst + ".weight")
            self.take(key + ".bias", (n,), dpst + ".bias")
        if key + ".num_batches_tracked" in self.sd:  # PyTorch >= 0.4 saves it; 0.3 did not
            self.used.add(key + ".num_batches_tracked")
        self.out[dpst + ".num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def inception(self, key, spec, dpst):
        cin, a, branches = spec
        self.conv(key + ".0.0", cin, a, 1, dpst + ".b0.conv")
        self.bn(key + ".0.1", a, False, dpst + ".b0.bn")
        for i, (k, r, o) in enumerate(branches, start=1):
            self.conv("%s.%d.0" % (key, i), cin, r, 1, "%s.b%d_reduce.conv" % (dpst, i))
            self.bn("%s.%d.1" % (key, i), r, False, "%s.b%d_reduce.bn" % (dpst, i))
            self.conv("%s.%d.3" % (key, i), r, o, k, "%s.b%d.conv" % (dpst, i))
            self.bn("%s.%d.4" % (key, i), o, False, "%s.b%d.bn" % (dpst, i))

    def level(self, key, k, specs):
        spec = specs[k]
        # key.0 is the ConcatTable (LambdaMap), key.1 the CAddTable. The same-resolution
        # branch starts with an inception (parameters under <branch>.0), the pooled one
        # with a pooling (none).
        starts = [self.has_prefix("%s.0.%d.0" % (key, b)) for b in (0, 1)]
        if starts.count(True) != 1:
            raise ConversionError("%s.0 (level L%d): expected a pooled branch (no parameters at index 0) and a "
                                  "same-resolution branch (an inception at index 0), found %s" % (
                                      key, k, "both starting with parameters" if all(starts) else "neither"))
        skip = "%s.0.%d" % (key, starts.index(True))
        pooled = "%s.0.%d" % (key, starts.index(False))
        i = 1  # index 0 of the pooled branch is the pooling
        for name, s in spec["pre"]:
            self.inception("%s.%d" % (pooled, i), s, name)
            i += 1
        if k > 1:
            self.level("%s.%d" % (pooled, i), k - 1, specs)
            i += 1
        for name, s in spec["post"]:
            self.inception("%s.%d" % (pooled, i), s, name)
            i += 1
        for j, (name, s) in enumerate(spec["skip"]):
            self.inception("%s.%d" % (skip, j), s, name)


def convert_hourglass_megadepth(args):
    import hourglass_torch

    sd = load_state_dict(args.input)  # drops a DataParallel "module." prefix
    tree = KeyTree(sd)
    try:
        tree.conv("0", 3, 128, 7, "stem.conv")
        tree.bn("1", 128, True, "stem.bn")
        tree.level("3", 4, hourglass_torch.level_specs())
        tree.conv("4", 64, 1, 3, "head")
    except ConversionError as e:
        raise ConversionError("'%s' is not MegaDepth's hourglass (pytorch_DIW_scratch): %s" % (args.input, e))
    unexpected = sorted(k for k in sd if k not in tree.used)
    tree.problems += ["unexpected %s, shape %s" % (k, tuple(np.asarray(sd[k]).shape)) for k in unexpected]
    if tree.problems:
        raise ConversionError("'%s' does not match MegaDepth's pytorch_DIW_scratch layout (%d problem(s)):\n  %s"
                              % (args.input, len(tree.problems), "\n  ".join(tree.problems)))
    write_hourglass(args, tree.out, "megadepth", "hourglass-megadepth " + os.path.basename(args.input),
                    {"output": "exp of MegaDepth's log depth (dpst applies the exp)"})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="kind", required=True)
    for kind, helptext in (("vgg16", "torchvision VGG16 .pth"), ("vgg16-keras", "Keras VGG16 notop .h5"),
                           ("hourglass", "hourglass state dict .pth"),
                           ("hourglass-t7", "Chen et al.'s hourglass3 Torch7 .t7 (relative_depth)"),
                           ("hourglass-megadepth", "MegaDepth's best_generalization_net_G.pth"),
                           ("transform", "TransformerNet state dict .pth")):
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
         "hourglass-t7": convert_hourglass_t7, "hourglass-megadepth": convert_hourglass_megadepth,
         "transform": convert_transform}[args.kind](args)
    except ConversionError as e:
        print("convert_weights.py: error: %s" % e, file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
