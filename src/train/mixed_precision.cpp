#include "train/mixed_precision.h"

#include <ATen/autocast_mode.h>

#include "common/errors.h"

namespace dpst::train {
namespace {

// The device-type autocast API of LibTorch >= 2.4 (the pinned wheel is 2.11).
void set_autocast(torch::DeviceType type, bool enabled, torch::ScalarType dtype) {
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
}

}  // namespace

AutocastScope::AutocastScope(const torch::Device& device, bool enabled) : enabled_(enabled), device_type_(device.type()) {
  if (!enabled_) return;
  DPST_CHECK(device_type_ == torch::kCPU || device_type_ == torch::kCUDA, InternalError,
             "bf16 autocast on " << device << " is not supported");
  previous_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  previous_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  set_autocast(device_type_, true, torch::kBFloat16);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!enabled_) return;
  // Casts of the weights are cached while scopes are open; free them with the last one.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_autocast(device_type_, previous_enabled_, previous_dtype_);
}

}  // namespace dpst::train
