#include "train/phase_timer.h"

#include <algorithm>
#include <chrono>

#include "common/errors.h"

namespace dpst::train {

#ifdef DPST_HAVE_CUDA
std::unique_ptr<PhaseClock> make_cuda_phase_clock(c10::DeviceIndex device);  // phase_clock_cuda.cpp
#endif

namespace {

class WallClock final : public PhaseClock {
 public:
  void record(size_t slot) override {
    if (times_.size() <= slot) times_.resize(slot + 1);
    times_[slot] = std::chrono::steady_clock::now();
  }
  void wait(size_t) override {}
  double ms_between(size_t a, size_t b) override {
    return std::chrono::duration<double, std::milli>(times_[b] - times_[a]).count();
  }
  int64_t take_host_syncs() override { return 0; }

 private:
  std::vector<std::chrono::steady_clock::time_point> times_;
};

}  // namespace

std::unique_ptr<PhaseClock> make_phase_clock(const torch::Device& device) {
  if (!device.is_cuda()) return std::make_unique<WallClock>();
#ifdef DPST_HAVE_CUDA
  return make_cuda_phase_clock(device.has_index() ? device.index() : 0);
#else
  DPST_THROW(InternalError, "phase timing on " << device << " in a build without CUDA");
#endif
}

PhaseTimer::PhaseTimer(bool enabled, const torch::Device& device) {
  if (enabled) clock_ = make_phase_clock(device);
}

void PhaseTimer::begin_step() {
  if (!clock_) return;
  marks_.clear();
  clock_->take_host_syncs();  // what happened between steps (logging, checkpoints) is not the step's
  clock_->record(0);
}

void PhaseTimer::mark(const char* phase) {
  if (!clock_) return;
  marks_.push_back(phase);
  clock_->record(marks_.size());
}

void PhaseTimer::end_step() {
  if (!clock_) return;
  host_syncs_ += clock_->take_host_syncs();
  clock_->wait(marks_.size());
  for (size_t i = 0; i < marks_.size(); ++i) {
    const double ms = clock_->ms_between(i, i + 1);
    auto it = std::find_if(sums_.begin(), sums_.end(), [&](const auto& s) { return s.first == marks_[i]; });
    if (it == sums_.end()) {
      sums_.emplace_back(marks_[i], ms);
    } else {
      it->second += ms;
    }
  }
  ++steps_;
}

std::vector<std::pair<std::string, double>> PhaseTimer::window_fields() {
  std::vector<std::pair<std::string, double>> fields;
  if (!clock_ || steps_ == 0) return fields;
  const double per_step = 1.0 / static_cast<double>(steps_);
  for (const auto& [name, ms] : sums_) fields.emplace_back("phase_" + name + "_ms", ms * per_step);
  fields.emplace_back("host_syncs", static_cast<double>(host_syncs_) * per_step);
  sums_.clear();
  steps_ = host_syncs_ = 0;
  return fields;
}

}  // namespace dpst::train
