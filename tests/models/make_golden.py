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
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

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


if __name__ == "__main__":
    main()
