#include "models/macs.h"

#include <cstdint>

namespace dpst::models {
namespace {
thread_local MacCounter* active_counter = nullptr;
}

MacCounter::MacCounter() : previous_(active_counter) { active_counter = this; }
MacCounter::~MacCounter() { active_counter = previous_; }

void MacCounter::add(double macs_per_image) {
  if (active_counter != nullptr) active_counter->macs_per_image_ += macs_per_image;
}

namespace {
void count(const torch::Tensor& w, const torch::Tensor& y) {
  if (active_counter == nullptr) return;
  // w: (C_out, C_in/groups, k_h, k_w)
  const double per_output = static_cast<double>(w.size(1) * w.size(2) * w.size(3));
  const double outputs = static_cast<double>(y.size(1) * y.size(2) * y.size(3));
  MacCounter::add(per_output * outputs);
}
}  // namespace

torch::Tensor counted_conv(torch::nn::Conv2d& conv, const torch::Tensor& x) {
  torch::Tensor y = conv->forward(x);
  count(conv->weight, y);
  return y;
}

torch::Tensor counted_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             int64_t padding) {
  torch::Tensor y = torch::conv2d(x, weight, bias, /*stride=*/1, /*padding=*/padding);
  count(weight, y);
  return y;
}

}  // namespace dpst::models
