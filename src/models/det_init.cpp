#include "models/det_init.h"

#include <cmath>
#include <vector>

#include "common/errors.h"

namespace dpst::models {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ull;

}  // namespace

uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

DetSpec det_spec(const std::string& name, const std::vector<int64_t>& shape) {
  if (shape.size() == 4) {
    const double fan_in = static_cast<double>(shape[1] * shape[2] * shape[3]);
    return {0.0f, static_cast<float>(std::sqrt(6.0 / fan_in))};
  }
  if (ends_with(name, "running_var")) return {1.0f, 0.5f};
  if (ends_with(name, "running_mean")) return {0.0f, 0.1f};
  if (ends_with(name, "weight")) return {1.0f, 0.1f};
  if (ends_with(name, "bias")) return {0.0f, 0.1f};
  DPST_THROW(InternalError, "no deterministic-init rule for tensor '" << name << "'");
}

torch::Tensor det_tensor(const std::string& name, const std::vector<int64_t>& shape, uint64_t seed,
                         DetSpec spec) {
  torch::Tensor t = torch::empty(shape, torch::kFloat32);
  float* data = t.data_ptr<float>();
  const int64_t n = t.numel();
  const uint64_t s = fnv1a64(std::to_string(seed) + ":" + name);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t z = splitmix64(s + static_cast<uint64_t>(i + 1) * kGamma);
    const float u = static_cast<float>(static_cast<int64_t>(z >> 40) - (int64_t{1} << 23)) / 8388608.0f;
    const float scaled = u * spec.bound;
    data[i] = spec.offset + scaled;
  }
  return t;
}

void det_init(torch::nn::Module& module, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto fill = [&](const std::string& name, torch::Tensor& t) {
    if (!t.is_floating_point()) {
      t.zero_();
      return;
    }
    const std::vector<int64_t> shape(t.sizes().begin(), t.sizes().end());
    t.copy_(det_tensor(name, shape, seed, det_spec(name, shape)));
  };
  for (auto& item : module.named_parameters(/*recurse=*/true)) fill(item.key(), item.value());
  for (auto& item : module.named_buffers(/*recurse=*/true)) fill(item.key(), item.value());
}

}  // namespace dpst::models
