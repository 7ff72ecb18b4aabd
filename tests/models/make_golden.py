#!/usr/bin/env python3
"""Regenerates the golden parity files in tests/fixtures/golden/ (committed; CI only
reads them). Runs in the project's Python environment (launch/install-deps.sh makes .venv
with the pinned torch and torchvision that the C++ build links):

    .venv/bin/python tests/models/make_golden.py

Scheme. Pretrained VGG16 (7.6 M parameters up to relu4_3) and the hourglass (5.36 M)
are far too big to commit, so both languages fill the networks with the same
deterministic values (dataprep/detinit_torch.py == src/models/det_init.cpp, bit for
bit: a splitmix64 stream per tensor seeded by FNV-1a of "<seed>:<name>", Kaiming-uniform
scale). This script
  1. fills torchvision's vgg16() with seed 1, saves it as .pth (zip AND legacy
     serialisation), converts both with dataprep/convert_weights.py vgg16 and checks
     every converted tensor equals the generated one; does the same through a Keras
     notop layout (HWIO) with convert_weights.py vgg16-keras; records the four tap
     activations of a fixed input (2x3x32x32, seed 4) -> vgg16_taps.h5;
  2. the same for the hourglass of dataprep/hourglass_torch.py (seed 2; also via
     --by-order with renamed keys) -> hourglass_taps.h5 (input 1x3x32x32, all six taps);
  3. a narrow f_W (width 8, 2 residual blocks, seed 3) in TransformerNet layout, saved
     as .pth and converted with convert_weights.py transform; the CONVERTER OUTPUT is
     committed (transform_w8b2.h5) so the C++ loader is tested on its exact format;
     its output for the fixed input -> transform_taps.h5;
  4. every loss term and the gradient of the weighted total w.r.t. each f_W parameter
     on that batch (style image 1x3x32x32, seed 5) -> losses.h5.
The C++ tests (tests/models, tests/losses) regenerate the VGG16/hourglass weights with
det_init(), write and strictly load them through the C++ HDF5 code, and compare.
Tensors are stored in full (float32); the biggest is relu1_2 at 2x64x32x32.
"""
import argparse
import os
import struct
import subprocess
import sys
import tempfile
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "dataprep"))
import detinit_torch as det  # noqa: E402
import hourglass_torch  # noqa: E402
import transformer_torch  # noqa: E402

OUT = os.path.join(ROOT, "tests", "fixtures", "golden")
CONVERT = os.path.join(ROOT, "dataprep", "convert_weights.py")
SEED_VGG, SEED_HG, SEED_FW, SEED_INPUT, SEED_STYLE = 1, 2, 3, 4, 5
VGG_TAPS = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
LAMBDA = {"content": 1.0, "style": 10.0, "depth": 1.0, "tv": 0.1}
CONTENT_LAYERS = ["relu2_2", "relu3_3"]
STYLE_LAYERS = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
DEPTH_LAYERS = ["stem", "L3", "output"]


def image(name, shape, seed):
    """A fixed 'image' in [0, 1): the det scheme with offset 0.5, bound 0.5."""
    return torch.from_numpy(det.det_array(name, shape, seed, 0.5, 0.5))


def convert(kind, src, dst, *extra):
    subprocess.run([sys.executable, CONVERT, kind, src, dst, *extra], check=True, stdout=subprocess.DEVNULL)
    with h5py.File(dst, "r") as f:
        return {k: f[k][()] for k in f.keys()}, dict(f.attrs)


def assert_same(converted, module_sd, what):
    for k, v in module_sd.items():
        assert k in converted, (what, k)
        assert np.array_equal(converted[k], v.numpy()), (what, k)
    assert set(converted) == set(module_sd), (what, set(converted) ^ set(module_sd))


def vgg_taps(features, x):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    y, taps = (x - mean) / std, {}
    for i in range(23):
        y = features[i](y)
        for name, idx in VGG_TAPS.items():
            if idx == i:
                taps[name] = y
    return taps


def gram(f):
    b, c, h, w = f.shape
    f = f.reshape(b, c, h * w)
    return torch.bmm(f, f.transpose(1, 2)) / (c * h * w)


def write(path, datasets, attrs):
    with h5py.File(path, "w") as f:
        for k, v in datasets.items():
            f.create_dataset(k, data=np.array(v.detach().numpy() if torch.is_tensor(v) else v, order="C"))
        for k, v in attrs.items():
            f.attrs[k] = str(v) if isinstance(v, str) else v
    print("wrote %s (%.0f KB)" % (os.path.relpath(path, ROOT), os.path.getsize(path) / 1024))


def main():
    import torchvision  # only the goldens need it; the seeded-file commands stay quick

    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp()
    x = image("input", (2, 3, 32, 32), SEED_INPUT)

    # 1. VGG16 -------------------------------------------------------------------
    vgg = torchvision.models.vgg16()
    vgg.eval()
    det.det_init_(vgg.features, SEED_VGG)  # names "0.weight" -> prefix below
    with torch.no_grad():
        for name, p in vgg.features.named_parameters():
            p.copy_(torch.from_numpy(det.det_array("features." + name, tuple(p.shape), SEED_VGG,
                                                   *det.det_spec("features." + name, tuple(p.shape)))))
    kept = {k: v for k, v in vgg.state_dict().items() if k.startswith("features.") and int(k.split(".")[1]) <= 21}
    for legacy in (False, True):
        pth = os.path.join(tmp, "vgg16_%s.pth" % ("legacy" if legacy else "zip"))
        torch.save(vgg.state_dict(), pth, _use_new_zipfile_serialization=not legacy)
        conv, attrs = convert("vgg16", pth, os.path.join(tmp, "vgg16.h5"))
        assert_same(conv, kept, "vgg16 " + pth)
        assert attrs["preprocessing"] == "imagenet"
    keras = os.path.join(tmp, "keras_notop.h5")
    with h5py.File(keras, "w") as f:
        names = ["block%d_conv%d" % (b, c) for b, n in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)) for c in range(1, n + 1)]
        for i, layer in enumerate(names):
            g = f.create_group(layer).create_group(layer)
            if i < 10:
                idx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21][i]
                g["kernel:0"] = kept["features.%d.weight" % idx].numpy().transpose(2, 3, 1, 0)  # OIHW -> HWIO
                g["bias:0"] = kept["features.%d.bias" % idx].numpy()
    conv, attrs = convert("vgg16-keras", keras, os.path.join(tmp, "vgg16_keras.h5"))
    assert_same(conv, kept, "vgg16-keras")
    assert attrs["preprocessing"] == "caffe_bgr"
    with torch.no_grad():
        taps = vgg_taps(vgg.features, x)
    vgg_params = sum(v.numel() for v in kept.values())
    write(os.path.join(OUT, "vgg16_taps.h5"), {"input": x, **taps},
          {"seed": SEED_VGG, "parameter_count": vgg_params, "torch": torch.__version__,
           "torchvision": torchvision.__version__})

    # 2. Hourglass ---------------------------------------------------------------
    hg = det.det_init_(hourglass_torch.Hourglass(), SEED_HG)
    hg_params = hourglass_torch.parameter_count(hg)
    assert hg_params == 5357153, hg_params
    pth = os.path.join(tmp, "hg.pth")
    torch.save(hg.state_dict(), pth)
    conv, attrs = convert("hourglass", pth, os.path.join(tmp, "hg.h5"))
    assert_same(conv, hg.state_dict(), "hourglass")
    renamed = os.path.join(tmp, "hg_renamed.pth")
    torch.save({"t%04d" % i: v for i, v in enumerate(hg.state_dict().values())}, renamed)
    conv, _ = convert("hourglass", renamed, os.path.join(tmp, "hg2.h5"), "--by-order")
    assert_same(conv, hg.state_dict(), "hourglass --by-order")
    xh = image("input_hourglass", (1, 3, 32, 32), SEED_INPUT)
    with torch.no_grad():
        taps = hg.forward_taps(xh)
    write(os.path.join(OUT, "hourglass_taps.h5"), {"input": xh, **taps},
          {"seed": SEED_HG, "parameter_count": hg_params, "torch": torch.__version__})

    # 2b. hourglass3 as .t7 and as MegaDepth's state dict ---------------------------
    lua_goldens(tmp)

    # 3. Narrow f_W through the converter --------------------------------------
    fw = det.det_init_(transformer_torch.TransformerNet(8, 2), SEED_FW)
    pth = os.path.join(tmp, "fw.pth")
    torch.save(fw.state_dict(), pth)
    conv_path = os.path.join(OUT, "transform_w8b2.h5")
    conv, attrs = convert("transform", pth, conv_path)
    assert_same(conv, fw.state_dict(), "transform")
    print("wrote %s (%.0f KB)" % (os.path.relpath(conv_path, ROOT), os.path.getsize(conv_path) / 1024))
    with torch.no_grad():
        y = fw(x)
    write(os.path.join(OUT, "transform_taps.h5"), {"input": x, "output": y},
          {"seed": SEED_FW, "parameter_count": sum(p.numel() for p in fw.parameters())})

    # 4. Losses and the f_W gradient --------------------------------------------
    style = image("style", (1, 3, 32, 32), SEED_STYLE)
    for p in list(vgg.parameters()) + list(hg.parameters()):
        p.requires_grad_(False)
    with torch.no_grad():
        tc = vgg_taps(vgg.features, x)
        td = hg.forward_taps(x)
        sg = {k: gram(v) for k, v in vgg_taps(vgg.features, style).items()}
    yhat = fw(x)
    oc = vgg_taps(vgg.features, yhat)
    od = hg.forward_taps(yhat)
    terms = {
        "content": sum(F.mse_loss(oc[l], tc[l]) for l in CONTENT_LAYERS),
        "style": sum(((gram(oc[l]) - sg[l]) ** 2).mean() for l in STYLE_LAYERS),
        "depth": sum(F.mse_loss(od[l], td[l]) for l in DEPTH_LAYERS),
        "tv": ((yhat[:, :, :, 1:] - yhat[:, :, :, :-1]) ** 2).mean() + ((yhat[:, :, 1:, :] - yhat[:, :, :-1, :]) ** 2).mean(),
    }
    total = sum(LAMBDA[k] * v for k, v in terms.items())
    fw.zero_grad()
    total.backward()
    data = {"input": x, "style": style, "output": yhat}
    data.update({"term." + k: v.detach().reshape(()) for k, v in terms.items()})
    data["term.total"] = total.detach().reshape(())
    data.update({"grad." + k: p.grad for k, p in fw.named_parameters()})
    attrs = {"lambda_" + k: v for k, v in LAMBDA.items()}
    attrs.update({"content_layers": ",".join(CONTENT_LAYERS), "style_layers": ",".join(STYLE_LAYERS),
                  "depth_layers": ",".join(DEPTH_LAYERS)})
    write(os.path.join(OUT, "losses.h5"), data, attrs)
    print("terms:", {k: float(v) for k, v in terms.items()}, "total", float(total))
    print("parameter counts: vgg16 %d, hourglass %d, f_W(8,2) %d, f_W(32,5) %d" % (
        vgg_params, hg_params, sum(p.numel() for p in fw.parameters()),
        sum(p.numel() for p in transformer_torch.TransformerNet().parameters())))


# --- hourglass3 as its authors' tree: Torch7 .t7 and MegaDepth .pth ---------------------
# LUA_LEVELS is princeton-vl/relative_depth's hourglass3.lua, read off the Lua source and
# written out again here (not derived from dpst's layout, so a mistake there shows up):
# per level the pooling, the inceptions before the inner level (pre), after it (post) and
# on the same-resolution branch (skip), each as (in, a, [(k, r, o), ...]) of
# inception_new.lua, and which branch the ConcatTable holds first.
_A = (256, 64, [(3, 32, 64), (5, 32, 64), (7, 32, 64)])
_B = (256, 64, [(3, 64, 64), (7, 64, 64), (11, 64, 64)])
_C = (128, 32, [(3, 32, 32), (5, 32, 32), (7, 32, 32)])
LUA_LEVELS = {
    1: dict(pool="avg", pre=[_A, _A, _A], post=[], skip=[_A, _A], pooled_first=False),
    2: dict(pool="avg", pre=[_A, _A], post=[_A, _B], skip=[_A, _B], pooled_first=False),
    3: dict(pool="max", pre=[_C, (128, 64, [(3, 32, 64), (5, 32, 64), (7, 32, 64)])],
            post=[_A, (256, 32, [(3, 32, 32), (5, 32, 32), (7, 32, 32)])],
            skip=[_C, (128, 32, [(3, 64, 32), (7, 64, 32), (11, 64, 32)])], pooled_first=True),
    4: dict(pool="max", pre=[_C, _C],
            post=[(128, 32, [(3, 64, 32), (5, 64, 32), (7, 64, 32)]), (128, 16, [(3, 32, 16), (7, 32, 16), (11, 32, 16)])],
            skip=[(128, 16, [(3, 64, 16), (7, 64, 16), (11, 64, 16)])], pooled_first=True),
}
SEED_LUA = 6


class ConcatTable(nn.Sequential):
    """nn.ConcatTable (MegaDepth: LambdaMap): every child on the same input, a list out."""

    def forward(self, x):
        return [m(x) for m in self]


class Concat(nn.Sequential):
    """nn.Concat(2) (MegaDepth: LambdaReduce of torch.cat): children joined on channels."""

    def forward(self, x):
        return torch.cat([m(x) for m in self], 1)


class CAddTable(nn.Module):
    """nn.CAddTable (MegaDepth: LambdaReduce of +)."""

    def forward(self, xs):
        return xs[0] + xs[1]


def lua_inception(spec):
    cin, a, branches = spec
    parts = [nn.Sequential(nn.Conv2d(cin, a, 1), nn.BatchNorm2d(a, affine=False), nn.ReLU())]
    for k, r, o in branches:
        parts.append(nn.Sequential(nn.Conv2d(cin, r, 1), nn.BatchNorm2d(r, affine=False), nn.ReLU(),
                                   nn.Conv2d(r, o, k, padding=(k - 1) // 2), nn.BatchNorm2d(o, affine=False), nn.ReLU()))
    return Concat(*parts)


def lua_hourglass(levels=LUA_LEVELS):
    """hourglass3.lua as one nested nn.Sequential, in the module order (and so with the
    state-dict keys) of MegaDepth's pytorch_DIW_scratch. Returns (net, {tap: module})."""
    taps = {}

    def level(k):
        s = levels[k]
        pooled = [nn.MaxPool2d(2, 2) if s["pool"] == "max" else nn.AvgPool2d(2, 2)]
        pooled += [lua_inception(x) for x in s["pre"]]
        pooled += [level(k - 1)] if k > 1 else []
        pooled += [lua_inception(x) for x in s["post"]] + [nn.Upsample(scale_factor=2, mode="nearest")]
        branches = [nn.Sequential(*pooled), nn.Sequential(*[lua_inception(x) for x in s["skip"]])]
        node = nn.Sequential(ConcatTable(*(branches if s["pooled_first"] else branches[::-1])), CAddTable())
        taps["L%d" % k] = node
        return node

    relu = nn.ReLU()
    net = nn.Sequential(nn.Conv2d(3, 128, 7, padding=3), nn.BatchNorm2d(128), relu, level(4),
                        nn.Conv2d(64, 1, 3, padding=1))
    taps["stem"] = relu
    net.eval()
    return net, taps


def lua_seeded(levels=LUA_LEVELS):
    net, taps = lua_hourglass(levels)
    with torch.no_grad():
        for name, t in net.state_dict().items():  # seeded by MegaDepth's key of each tensor
            if t.is_floating_point():
                t.copy_(torch.from_numpy(det.det_array(name, tuple(t.shape), SEED_LUA, *det.det_spec(name, tuple(t.shape)))))
    return net, taps


def lua_forward_taps(net, taps, x):
    got = {}
    hooks = [m.register_forward_hook(lambda m, i, o, n=n: got.__setitem__(n, o)) for n, m in taps.items()]
    with torch.no_grad():
        got["output"] = net(x)
    for h in hooks:
        h.remove()
    return got


class T7Writer:
    """Torch7's binary serialisation, written from torch7's File.lua (writeObject) and
    the write methods of generic/Tensor.c and generic/Storage.c, for little-endian
    64-bit files (int 4 bytes, long 8, number = double). Independent of torchfile.
      object  = int type; NIL 0 | NUMBER 1 double | STRING 2 int len, bytes |
                BOOLEAN 5 int 0/1 | TABLE 3 int ref [int n, n x (key object, value object)] |
                TORCH 4 int ref [string "V 1", string class name, payload]
      a ref seen before stands alone (the reader returns the object it already has)
      payload: Tensor = int ndim, long size[ndim], long stride[ndim], long offset (1-based),
               storage object (nil when empty); Storage = long n, n raw values;
               other classes (nn modules) = their fields as a table object."""

    class Obj:
        def __init__(self, cls, fields):
            self.cls, self.fields = cls, fields

    class Storage:
        def __init__(self, cls, data):
            self.cls, self.data = cls, np.ascontiguousarray(data, dtype=np.float32).reshape(-1)

    class Tensor:
        def __init__(self, cls, storage, shape, offset=0):
            self.cls, self.storage, self.shape, self.offset = cls, storage, tuple(shape), offset

    def __init__(self, f):
        self.f, self.refs = f, {}

    def _int(self, v):
        self.f.write(struct.pack("<i", v))

    def _long(self, v):
        self.f.write(struct.pack("<q", v))

    def _chars(self, s):
        b = s.encode()
        self._int(len(b))
        self.f.write(b)

    def _ref(self, obj):
        """Writes the reference; True if the object itself must follow."""
        if id(obj) in self.refs:
            self._int(self.refs[id(obj)])
            return False
        self.refs[id(obj)] = len(self.refs) + 1
        self._int(self.refs[id(obj)])
        return True

    def write(self, v):
        if v is None:
            self._int(0)
        elif isinstance(v, bool):
            self._int(5)
            self._int(1 if v else 0)
        elif isinstance(v, (int, float)):
            self._int(1)
            self.f.write(struct.pack("<d", float(v)))
        elif isinstance(v, str):
            self._int(2)
            self._chars(v)
        elif isinstance(v, (dict, list)):
            self._int(3)
            if self._ref(v):
                items = list(v.items()) if isinstance(v, dict) else [(i + 1, x) for i, x in enumerate(v)]
                self._int(len(items))
                for k, x in items:
                    self.write(k)
                    self.write(x)
        else:
            self._int(4)
            if not self._ref(v):
                return
            self._chars("V 1")
            self._chars(v.cls)
            if isinstance(v, T7Writer.Storage):
                self._long(v.data.size)
                self.f.write(v.data.astype("<f4").tobytes())
            elif isinstance(v, T7Writer.Tensor):
                self._int(len(v.shape))
                strides = [int(np.prod(v.shape[i + 1:])) for i in range(len(v.shape))]
                for n in v.shape:
                    self._long(n)
                for s in strides:
                    self._long(s)
                self._long(v.offset + 1)
                self.write(v.storage)
            else:
                self.write(v.fields)


def lua_tree(net, legacy_std_first_bn=False, bad_weight=False):
    """The .t7 object tree of hourglass3 as trained on a GPU and saved with torch.save:
    cudnn.* classes, CudaTensors, and every weight and bias a view into ONE flat
    CudaStorage (what model:getParameters() leaves behind), so that storage is written
    once and referenced by every conv/BN parameter after that."""
    W = T7Writer
    params = [p.detach().numpy().reshape(-1) for p in net.parameters()]
    flat = W.Storage("torch.CudaStorage", np.concatenate(params))
    offset = [0]

    def param(t):
        view = W.Tensor("torch.CudaTensor", flat, tuple(t.shape), offset[0])
        offset[0] += t.numel()
        return view

    def own(t):
        return W.Tensor("torch.CudaTensor", W.Storage("torch.CudaStorage", t.detach().numpy()), tuple(t.shape))

    def empty():
        return W.Tensor("torch.CudaTensor", None, ())

    def module(cls, **fields):
        fields.update(output=empty(), gradInput=empty(), train=False, _type="torch.CudaTensor")
        return W.Obj(cls, fields)

    state = {"bn": 0, "conv": 0}

    def convert(m):
        if isinstance(m, nn.Conv2d):
            k, p = m.kernel_size[0], m.padding[0]
            weight = param(m.weight)
            if bad_weight and state["conv"] == 7:  # fields say one shape, the tensor holds another
                weight = W.Tensor("torch.CudaTensor", flat, (m.out_channels, m.in_channels, k + 2, k + 2), weight.offset)
            state["conv"] += 1
            return module("cudnn.SpatialConvolution", nInputPlane=m.in_channels, nOutputPlane=m.out_channels,
                          kW=k, kH=k, dW=1, dH=1, padW=p, padH=p, groups=1, weight=weight, bias=param(m.bias),
                          gradWeight=empty(), gradBias=empty())
        if isinstance(m, nn.BatchNorm2d):
            f = dict(eps=m.eps, momentum=m.momentum, affine=m.affine, nDim=4, running_mean=own(m.running_mean))
            if legacy_std_first_bn and state["bn"] == 3:  # nn before mid-2016: 1/sqrt(var + eps)
                f["running_std"] = own(torch.rsqrt(m.running_var + m.eps))
            else:
                f["running_var"] = own(m.running_var)
            if m.affine:
                f.update(weight=param(m.weight), bias=param(m.bias), gradWeight=empty(), gradBias=empty())
            state["bn"] += 1
            return module("nn.SpatialBatchNormalization", **f)
        if isinstance(m, nn.ReLU):
            return module("cudnn.ReLU", inplace=True, threshold=0, val=0)
        if isinstance(m, nn.MaxPool2d):
            return module("cudnn.SpatialMaxPooling", kW=2, kH=2, dW=2, dH=2, padW=0, padH=0, ceil_mode=False)
        if isinstance(m, nn.AvgPool2d):
            return module("nn.SpatialAveragePooling", kW=2, kH=2, dW=2, dH=2, padW=0, padH=0, ceil_mode=False,
                          count_include_pad=True, divide=True)
        if isinstance(m, nn.Upsample):
            return module("nn.SpatialUpSamplingNearest", scale_factor=2)
        if isinstance(m, CAddTable):
            return module("nn.CAddTable", inplace=False)
        cls = {ConcatTable: "nn.ConcatTable", Concat: "nn.Concat", nn.Sequential: "nn.Sequential"}[type(m)]
        extra = {"dimension": 2} if cls == "nn.Concat" else {}
        return module(cls, modules=[convert(c) for c in m], **extra)

    tree = convert(net)
    # net.parameters() and the walk above visit the parameters in the same order.
    assert offset[0] == flat.data.size or bad_weight, (offset[0], flat.data.size)
    return tree


def vgg_tree():
    """torchvision VGG16's feature stack as a Torch7 tree: a .t7 of another network."""
    W = T7Writer
    big = W.Storage("torch.CudaStorage", np.zeros(512 * 512 * 9, np.float32))  # shared by every conv
    mods, cin = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            mods.append(W.Obj("nn.SpatialMaxPooling", dict(kW=2, kH=2, dW=2, dH=2, padW=0, padH=0)))
            continue
        mods.append(W.Obj("nn.SpatialConvolution", dict(nInputPlane=cin, nOutputPlane=v, kW=3, kH=3, dW=1, dH=1, padW=1,
                                                          padH=1, weight=W.Tensor("torch.CudaTensor", big, (v, cin, 3, 3)),
                                                          bias=W.Tensor("torch.CudaTensor", big, (v,)))))
        mods.append(W.Obj("nn.ReLU", dict(inplace=True)))
        cin = v
    return W.Obj("nn.Sequential", dict(modules=mods))


def write_t7(path, tree):
    with open(path, "wb") as f:
        T7Writer(f).write(tree)


def seeded_file(args):
    """`make_golden.py t7 OUT [--tree ...]` / `make_golden.py megadepth OUT [--drop-key K]`:
    the seeded hourglass3 of LUA_LEVELS (seed SEED_LUA) as the tests need it, written at
    test time (21 MB, too big to commit)."""
    if args.kind == "megadepth":
        net, _ = lua_seeded()
        # As MegaDepth saved it: a DataParallel state dict of PyTorch 0.3 (no num_batches_tracked).
        sd = OrderedDict(("module." + k, v) for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked"))
        for k in args.drop_key:
            del sd[k]
        torch.save(sd, args.out)
        return
    if args.tree == "vgg16":
        write_t7(args.out, vgg_tree())
        return
    levels = LUA_LEVELS
    if args.tree == "wrong-shape":  # L3's first pre inception: a 1x1 branch of 64 where hourglass3 has 32
        levels = {k: dict(v) for k, v in LUA_LEVELS.items()}
        levels[3]["pre"] = [(128, 64, _C[2])] + levels[3]["pre"][1:]
    net, _ = lua_seeded(levels)
    write_t7(args.out, lua_tree(net, legacy_std_first_bn=True, bad_weight=args.tree == "bad-weight"))


def lua_goldens(tmp):
    """hourglass_lua_taps.h5: the taps of the seeded LUA_LEVELS network on a 16x16 8-bit input
    (hourglass3's relative depth as `output`, MegaDepth's exp(log depth) as
    `megadepth.output`), and checks here that both converters rebuild dpst's hourglass
    from it exactly (hourglass_torch gives the same taps)."""
    net, taps = lua_seeded()
    # 8-bit values, so the C++ test feeds the same input through an image file (`features`).
    x = torch.round(image("input_lua", (1, 3, 16, 16), SEED_INPUT) * 255) / 255
    ref = lua_forward_taps(net, taps, x)
    for kind, variant in (("t7", "hourglass3"), ("megadepth", "megadepth")):
        src = os.path.join(tmp, "lua." + kind)
        seeded_file(argparse.Namespace(kind=kind, out=src, tree="hourglass3", drop_key=[]))
        conv, attrs = convert("hourglass-" + kind, src, os.path.join(tmp, "lua_%s.h5" % kind))
        assert attrs["depth_variant"] == variant, attrs
        hg = hourglass_torch.Hourglass(variant)
        hg.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in conv.items()}, strict=True)
        with torch.no_grad():
            mine = hg.forward_taps(x)
        for name in hourglass_torch.Hourglass.TAPS:
            want = torch.exp(ref[name]) if (name == "output" and variant == "megadepth") else ref[name]
            err = ((mine[name] - want).abs().max() / want.abs().max()).item()
            print("  %s %s: max rel error %.2e" % (kind, name, err))
            assert err < 1e-5, (kind, name, err)
    data = {"input": x, **{k: v for k, v in ref.items()}, "megadepth.output": torch.exp(ref["output"])}
    write(os.path.join(OUT, "hourglass_lua_taps.h5"), data,
          {"seed": SEED_LUA, "layout": "hourglass3.lua / MegaDepth pytorch_DIW_scratch", "torch": torch.__version__})


if __name__ == "__main__":
    if len(sys.argv) == 1:
        main()
    else:
        cli = argparse.ArgumentParser(description="Seeded hourglass3 source files for the converter tests.")
        sub = cli.add_subparsers(dest="kind", required=True)
        t7 = sub.add_parser("t7", help="hourglass3 (or another tree) as a Torch7 .t7")
        t7.add_argument("out")
        t7.add_argument("--tree", choices=["hourglass3", "vgg16", "wrong-shape", "bad-weight"], default="hourglass3")
        md = sub.add_parser("megadepth", help="hourglass3 as MegaDepth's best_generalization_net_G.pth state dict")
        md.add_argument("out")
        md.add_argument("--drop-key", action="append", default=[], help="leave this key out (a broken file)")
        seeded_file(cli.parse_args())
