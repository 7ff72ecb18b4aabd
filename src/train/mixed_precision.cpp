#include "train/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "common/errors.h"

// LibTorch 2.4 replaced the per-backend setters (set_enabled / set_cpu_enabled, ...) with
// ones that take the device type.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DPST_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace dpst::train {
namespace {

bool autocast_enabled(torch::DeviceType type) {
#ifdef DPST_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(type);
#else
  return type == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

torch::ScalarType autocast_dtype(torch::DeviceType type) {
#ifdef DPST_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(type);
#else
  return type == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast(torch::DeviceType type, bool enabled, torch::ScalarType dtype) {
#ifdef DPST_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
  at::autocast::set_autocast_enabled(type, enabled);
#else
  if (type == torch::kCUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
    at::autocast::set_enabled(enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
    at::autocast::set_cpu_enabled(enabled);
  }
#endif
}

}  // namespace

AutocastScope::AutocastScope(const torch::Device& device, bool enabled) : enabled_(enabled), device_type_(device.type()) {
  if (!enabled_) return;
  DPST_CHECK(device_type_ == torch::kCPU || device_type_ == torch::kCUDA, InternalError,
             "bf16 autocast on " << device << " is not supported");
  previous_enabled_ = autocast_enabled(device_type_);
  previous_dtype_ = autocast_dtype(device_type_);
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
