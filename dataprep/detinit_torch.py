"""Deterministic weight values, bit-identical to src/models/det_init.cpp.

Per tensor NAME with N elements and integer seed S:
  s   = FNV-1a-64("<S>:<NAME>")
  z_i = splitmix64(s + (i+1) * 0x9E3779B97F4A7C15), i = 0..N-1
  u_i = float32((z_i >> 40) - 2**23) / 2**23          (exact, in [-1, 1))
  v_i = offset + u_i * bound                           (float32 arithmetic)
(offset, bound): 4-D weight (0, sqrt(6/fan_in)); *.running_var (1, 0.5);
*.running_mean (0, 0.1); other *.weight (1, 0.1); *.bias (0, 0.1);
integer buffers (num_batches_tracked) 0.
"""
import math

import numpy as np

_MASK = (1 << 64) - 1
_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def fnv1a64(text):
    h = 0xCBF29CE484222325
    for c in text.encode("utf-8"):
        h ^= c
        h = (h * 0x100000001B3) & _MASK
    return h


def det_spec(name, shape):
    if len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        return 0.0, math.sqrt(6.0 / fan_in)
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if name.endswith("weight"):
        return 1.0, 0.1
    if name.endswith("bias"):
        return 0.0, 0.1
    raise ValueError("no deterministic-init rule for tensor '%s'" % name)


def det_array(name, shape, seed, offset, bound):
    n = int(np.prod(shape)) if len(shape) else 1
    s = np.uint64(fnv1a64("%d:%s" % (seed, name)))
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = s + i * _GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = ((z >> np.uint64(40)).astype(np.int64) - (1 << 23)).astype(np.float32) / np.float32(8388608.0)
    scaled = u * np.float32(bound)
    v = np.float32(offset) + scaled
    return v.astype(np.float32).reshape(shape)


def det_init_(module, seed):
    """Overwrites every parameter and buffer of a torch module in place."""
    import torch

    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if not t.is_floating_point():
                t.zero_()
                continue
            offset, bound = det_spec(name, tuple(t.shape))
            t.copy_(torch.from_numpy(det_array(name, tuple(t.shape), seed, offset, bound)))
    return module
