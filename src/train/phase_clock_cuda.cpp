// PhaseTimer's clock on a CUDA device (built only with CUDA): events on the current
// stream, and PyTorch's sync debug mode turned to "warn" with a warning handler that
// counts the warnings instead of printing them (phase_timer.h).
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "train/phase_timer.h"

namespace dpst::train {
namespace {

#define DPST_CUDA_EVENT_OK(expr)                                                                   \
  do {                                                                                             \
    const cudaError_t e_ = (expr);                                                                 \
    DPST_CHECK(e_ == cudaSuccess, InternalError, "phase timing: " #expr ": " << cudaGetErrorString(e_)); \
  } while (0)

// Counts PyTorch's "called a synchronizing CUDA operation" warnings; passes others on.
class SyncCounter final : public c10::WarningHandler {
 public:
  explicit SyncCounter(c10::WarningHandler* next) : next_(next) {}
  void process(const c10::Warning& warning) override {
    if (warning.msg().find("synchronizing CUDA operation") != std::string::npos) {
      ++count_;
    } else if (next_ != nullptr) {
      next_->process(warning);
    }
  }
  int64_t take() { return count_.exchange(0); }

 private:
  c10::WarningHandler* next_;
  std::atomic<int64_t> count_{0};
};

class CudaEventClock final : public PhaseClock {
 public:
  explicit CudaEventClock(c10::DeviceIndex device)
      : device_(device), previous_mode_(c10::cuda::warning_state().get_sync_debug_mode()),
        counter_(c10::WarningUtils::get_warning_handler()) {
    c10::WarningUtils::set_warning_handler(&counter_);
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_WARN);
  }
  ~CudaEventClock() override {
    c10::cuda::warning_state().set_sync_debug_mode(previous_mode_);
    c10::WarningUtils::set_warning_handler(counter_next_);
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }
  void record(size_t slot) override {
    c10::cuda::CUDAGuard guard(device_);
    while (events_.size() <= slot) {
      cudaEvent_t e;
      DPST_CUDA_EVENT_OK(cudaEventCreate(&e));
      events_.push_back(e);
    }
    DPST_CUDA_EVENT_OK(cudaEventRecord(events_[slot], c10::cuda::getCurrentCUDAStream(device_).stream()));
  }
  void wait(size_t slot) override { DPST_CUDA_EVENT_OK(cudaEventSynchronize(events_[slot])); }
  double ms_between(size_t a, size_t b) override {
    float ms = 0;
    DPST_CUDA_EVENT_OK(cudaEventElapsedTime(&ms, events_[a], events_[b]));
    return ms;
  }
  int64_t take_host_syncs() override { return counter_.take(); }

 private:
  c10::DeviceIndex device_;
  c10::cuda::SyncDebugMode previous_mode_;
  c10::WarningHandler* counter_next_ = c10::WarningUtils::get_warning_handler();
  SyncCounter counter_;
  std::vector<cudaEvent_t> events_;
};

}  // namespace

std::unique_ptr<PhaseClock> make_cuda_phase_clock(c10::DeviceIndex device) {
  return std::make_unique<CudaEventClock>(device);
}

}  // namespace dpst::train
