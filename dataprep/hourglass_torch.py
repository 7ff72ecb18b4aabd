"""The hourglass depth network (Chen et al. 2016, "hourglass3") in PyTorch, built from
the table in DESIGN.md section 5 with exactly the parameter names of
src/models/hourglass.cpp. Used by convert_weights.py (hourglass) and by the golden
parity script tests/models/make_golden.py. Always evaluated in eval mode.

Variants (loss_nets.depth_net; a converted weight file records its own as the attribute
depth_variant). Both compute the same layers (MaxPool at L4/L3, AvgPool at L2/L1, nearest
x2 upsampling, the same inception modules) and the same taps stem, L1..L4; they differ in
what the head predicts:
  hourglass3  Chen et al.'s relative depth (princeton-vl/relative_depth): output = head(L4);
  megadepth   MegaDepth's retrained weights predict log depth: output = exp(head(L4)),
              so that `output` is a depth map (larger = farther) in both variants.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBn(nn.Module):
    def __init__(self, cin, cout, k, affine):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2)
        self.bn = nn.BatchNorm2d(cout, affine=affine)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, cin, a, branches):
        super().__init__()
        self.b0 = ConvBn(cin, a, 1, False)
        self.n = len(branches)
        for i, (k, r, o) in enumerate(branches, start=1):
            setattr(self, "b%d_reduce" % i, ConvBn(cin, r, 1, False))
            setattr(self, "b%d" % i, ConvBn(r, o, k, False))

    def forward(self, x):
        outs = [self.b0(x)]
        for i in range(1, self.n + 1):
            outs.append(getattr(self, "b%d" % i)(getattr(self, "b%d_reduce" % i)(x)))
        return torch.cat(outs, 1)


def inc(cin, a, branches):
    return Inception(cin, a, branches)


def inc357(cin, a, r, o):
    return inc(cin, a, [(3, r, o), (5, r, o), (7, r, o)])


def std256():
    return inc357(256, 64, 32, 64)


class Level(nn.Module):
    def __init__(self, pre, post, skip):
        super().__init__()
        self.pre = nn.Sequential(*pre)
        self.post = nn.Sequential(*post)
        self.skip = nn.Sequential(*skip)


class Hourglass(nn.Module):
    TAPS = ["stem", "L1", "L2", "L3", "L4", "output"]

    VARIANTS = ("hourglass3", "megadepth")

    def __init__(self, variant="hourglass3"):
        super().__init__()
        if variant not in self.VARIANTS:
            raise ValueError("unknown hourglass variant '%s' (known: %s)" % (variant, ", ".join(self.VARIANTS)))
        self.variant = variant
        self.stem = ConvBn(3, 128, 7, True)
        self.L4 = Level([inc357(128, 32, 32, 32), inc357(128, 32, 32, 32)],
                        [inc357(128, 32, 64, 32), inc(128, 16, [(3, 32, 16), (7, 32, 16), (11, 32, 16)])],
                        [inc(128, 16, [(3, 64, 16), (7, 64, 16), (11, 64, 16)])])
        self.L3 = Level([inc357(128, 32, 32, 32), inc357(128, 64, 32, 64)],
                        [std256(), inc357(256, 32, 32, 32)],
                        [inc357(128, 32, 32, 32), inc(128, 32, [(3, 64, 32), (7, 64, 32), (11, 64, 32)])])
        self.L2 = Level([std256(), std256()],
                        [std256(), inc(256, 64, [(3, 64, 64), (7, 64, 64), (11, 64, 64)])],
                        [std256(), inc(256, 64, [(3, 64, 64), (7, 64, 64), (11, 64, 64)])])
        self.L1 = Level([std256(), std256(), std256()], [], [std256(), std256()])
        self.head = nn.Conv2d(64, 1, 3, padding=1)
        self.eval()

    def train(self, mode=True):  # frozen network: always eval
        return super().train(False)

    def _level(self, k, x, taps):
        lv = getattr(self, "L%d" % k)
        p = F.max_pool2d(x, 2) if k >= 3 else F.avg_pool2d(x, 2)
        p = lv.pre(p)
        if k > 1:
            p = self._level(k - 1, p, taps)
        p = lv.post(p)
        out = lv.skip(x) + F.interpolate(p, scale_factor=2, mode="nearest")
        taps["L%d" % k] = out
        return out

    def forward_taps(self, x):
        taps = {}
        s = self.stem(x)
        taps["stem"] = s
        head = self.head(self._level(4, s, taps))
        taps["output"] = torch.exp(head) if self.variant == "megadepth" else head
        return taps

    def forward(self, x):
        return self.forward_taps(x)["output"]


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())


def inception_spec(module):
    """(in, a, [(k, r, o), ...]) of an Inception: what convert_weights.py expects to find."""
    branches = []
    for i in range(1, module.n + 1):
        reduce, conv = getattr(module, "b%d_reduce" % i).conv, getattr(module, "b%d" % i).conv
        branches.append((conv.kernel_size[0], reduce.out_channels, conv.out_channels))
    return module.b0.conv.in_channels, module.b0.conv.out_channels, branches


def level_specs():
    """{k: {"pool": "max"|"avg", "pre"/"post"/"skip": [inception_spec, ...]}} for k = 1..4,
    with the dpst names of each inception ("L4.pre.0", ...)."""
    net = Hourglass()
    specs = {}
    for k in (4, 3, 2, 1):
        lv = getattr(net, "L%d" % k)
        specs[k] = {"pool": "max" if k >= 3 else "avg"}
        for part in ("pre", "post", "skip"):
            specs[k][part] = [("L%d.%s.%d" % (k, part, i), inception_spec(m)) for i, m in enumerate(getattr(lv, part))]
    return specs
