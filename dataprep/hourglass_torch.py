"""The hourglass depth network (Chen et al. 2016, "hourglass3") in PyTorch, built from
the table in DESIGN.md section 5 with exactly the parameter names of
src/models/hourglass.cpp. Used by convert_weights.py (hourglass) and by the golden
parity script tests/models/make_golden.py. Always evaluated in eval mode.
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

    def __init__(self):
        super().__init__()
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
        taps["output"] = self.head(self._level(4, s, taps))
        return taps

    def forward(self, x):
        return self.forward_taps(x)["output"]


def parameter_count(module):
    return sum(p.numel() for p in module.parameters())
