// train.precision = bf16: the forward passes (f_W and the frozen networks) run under
// autocast, so convolutions and matrix products take bfloat16 inputs, while the weights,
// their gradients and Adam's state stay fp32 ("master weights"), and the loss terms are
// computed in fp32 from the (bf16) features. fp32 runs never construct an active scope,
// so they are bit-identical to a build without this file.
#pragma once

#include <torch/types.h>

namespace dpst::train {

// Turns autocast to bfloat16 on for `device`'s type on this thread while alive (when
// `enabled`), and restores the previous state after. The .cpp uses the device-type API
// of LibTorch >= 2.4 (the pinned wheel is 2.11).
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool enabled_ = false;
  torch::DeviceType device_type_ = torch::kCPU;
  bool previous_enabled_ = false;
  torch::ScalarType previous_dtype_ = torch::kFloat;
};

}  // namespace dpst::train
