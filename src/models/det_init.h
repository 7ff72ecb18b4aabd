// Deterministic, platform-independent weight values: the same bits in C++ and in
// Python (dataprep/detinit_torch.py implements the identical scheme). Used to seed
// a loss network started without a weight file (loss_nets.allow_random_init) and by
// the golden parity tests, which cannot commit millions of pretrained weights.
//
// Scheme, per tensor called NAME with N elements, for an integer seed S:
//   s    = FNV-1a-64 of the string "<S>:<NAME>"
//   z_i  = splitmix64 output for the state s + (i+1)*0x9E3779B97F4A7C15, i = 0..N-1
//   u_i  = (float)((z_i >> 40) - 2^23) / 2^23            exactly representable, in [-1, 1)
//   v_i  = offset + u_i * bound                           float32 arithmetic
// where (offset, bound) depend on the tensor's role (rules in det_spec()):
//   4-D conv weight: (0, sqrt(6 / fan_in))  — Kaiming-uniform scale for ReLU nets
//   *.running_var:   (1, 0.5)    *.running_mean: (0, 0.1)
//   other 1-D *.weight (norm scale): (1, 0.1)    *.bias: (0, 0.1)
//   *.num_batches_tracked: 0
#pragma once

#include "common/hash.h"

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace dpst::models {

struct DetSpec {
  float offset = 0.0f;
  float bound = 0.0f;
};

using dpst::fnv1a64;  // common/hash.h
uint64_t splitmix64(uint64_t state);

// The (offset, bound) rule for a tensor of this name and shape.
DetSpec det_spec(const std::string& name, const std::vector<int64_t>& shape);

// A float32 CPU tensor filled with the scheme's values.
torch::Tensor det_tensor(const std::string& name, const std::vector<int64_t>& shape, uint64_t seed,
                         DetSpec spec);

// Overwrites every parameter and buffer of `module` (by its full name) with the scheme's
// values. Integer buffers (num_batches_tracked) become 0.
void det_init(torch::nn::Module& module, uint64_t seed);

}  // namespace dpst::models
