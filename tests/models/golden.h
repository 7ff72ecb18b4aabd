// Shared by the model and loss tests: golden files (tests/fixtures/golden, made by
// tests/models/make_golden.py) and the relative error used for parity.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include <torch/torch.h>

#include "models/weights_io.h"

namespace dpst::test {

inline std::filesystem::path golden_path(const std::string& name) {
  return std::filesystem::path(DPST_FIXTURES_DIR) / "golden" / name;
}

inline std::map<std::string, torch::Tensor> read_golden(const std::string& name) {
  return models::read_all_tensors(golden_path(name));
}

// max |a − b| / max |b|: robust where activations are ~0 (after ReLU).
inline double rel_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double denom = b.abs().max().item<double>();
  const double diff = (a.detach().to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  return denom > 0 ? diff / denom : diff;
}

// f_W parameters whose true gradient is exactly 0 for ANY loss: every path from them
// ends in an InstanceNorm, which removes per-channel constants. These are the conv
// biases in front of an InstanceNorm (all but deconv3's) and the shift of each residual
// block's second norm (its constant passes the identity path into the next norm). Their
// computed gradients are float rounding noise (~1e-8 of the largest gradient), which
// differs between any two implementations, so tests check them for being ~0 instead.
inline bool gradient_cancelled_by_instance_norm(const std::string& name) {
  const bool conv_bias = name.find("conv2d.bias") != std::string::npos && name != "deconv3.conv2d.bias";
  const bool res_in2_bias = name.rfind("res", 0) == 0 && name.find(".in2.bias") != std::string::npos;
  return conv_bias || res_in2_bias;
}

// Seeds of make_golden.py.
constexpr uint64_t kSeedVgg = 1, kSeedHourglass = 2, kSeedTransform = 3;

}  // namespace dpst::test
