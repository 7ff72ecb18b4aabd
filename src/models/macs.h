// Multiply-accumulate counting for the networks' convolutions: every conv in
// src/models runs through counted_conv(), which adds its MACs to the active
// MacCounter of this thread (if any). GMAC figures in `dpst-weights info` and the
// benchmark count convolutions only (norms, pools, upsampling and ReLUs are < 1%).
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace dpst::models {

// While alive, counts the MACs of convolutions run on this thread.
class MacCounter {
 public:
  MacCounter();
  ~MacCounter();
  MacCounter(const MacCounter&) = delete;
  MacCounter& operator=(const MacCounter&) = delete;
  // MACs per image (a batch's MACs divided by its batch size).
  double macs_per_image() const { return macs_per_image_; }
  static void add(double macs_per_image);

 private:
  double macs_per_image_ = 0;
  MacCounter* previous_ = nullptr;
};

// conv->forward(x), counting out_h*out_w*C_out*(C_in/groups)*k_h*k_w MACs per image.
torch::Tensor counted_conv(torch::nn::Conv2d& conv, const torch::Tensor& x);
// conv2d(x, weight, bias) with stride 1 and the given padding, counted the same way.
torch::Tensor counted_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                             int64_t padding);

}  // namespace dpst::models
