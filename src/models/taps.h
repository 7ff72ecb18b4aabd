// Named intermediate activations ("taps") of the frozen loss networks.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace dpst::models {

// Tap name -> activation (B, C, H, W).
using Taps = std::map<std::string, torch::Tensor>;
using TapNames = std::vector<std::string>;

// Rows [begin, begin+count) of every tap: one trial's slice of a pack's batch.
Taps slice_taps(const Taps& taps, int64_t begin, int64_t count);

// Throws ConfigError if a name is not in `known`, listing the known names.
void check_tap_names(const TapNames& wanted, const TapNames& known, const std::string& network);

// Puts frozen networks in eval mode with requires_grad=false on every parameter.
void freeze(torch::nn::Module& module);

// Parameter and buffer element counts.
int64_t parameter_count(const torch::nn::Module& module);
int64_t buffer_count(const torch::nn::Module& module);

}  // namespace dpst::models
