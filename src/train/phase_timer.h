// Where one training step's time goes (train.phase_timing): the trainer marks the end of
// each phase; per phase the log window's mean in ms goes to metrics.jsonl as
// phase_<name>_ms, with host_syncs. A phase marked more than once in a step (per-trial
// packs run f_W forward, loss forward and backward once per trial) adds up.
// On a CUDA device the marks are CUDA events on the compute stream, read after the step's
// last mark (one extra host synchronisation per step, in this mode only), and PyTorch's
// sync debug mode counts the host synchronisations that the training thread makes
// (host_syncs; autograd's own threads are not seen). On the CPU the work is synchronous
// and the marks are the wall clock; host_syncs is 0.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

namespace dpst::train {

// The clock behind the marks: CUDA events or the wall clock.
class PhaseClock {
 public:
  virtual ~PhaseClock() = default;
  virtual void record(size_t slot) = 0;              // a mark at `slot` (0 = step start)
  virtual void wait(size_t slot) = 0;                // until mark `slot` has happened
  virtual double ms_between(size_t a, size_t b) = 0;  // between two waited-for marks
  virtual int64_t take_host_syncs() = 0;             // synchronisations since the last call
};
std::unique_ptr<PhaseClock> make_phase_clock(const torch::Device& device);

class PhaseTimer {
 public:
  // Disabled: every call returns at once and window_fields() is empty.
  PhaseTimer(bool enabled, const torch::Device& device);

  void begin_step();
  void mark(const char* phase);  // the phase that ends now (a literal: kept by pointer)
  void end_step();
  // phase_<name>_ms (mean per step) and host_syncs (mean per step) since the last call.
  std::vector<std::pair<std::string, double>> window_fields();

 private:
  std::unique_ptr<PhaseClock> clock_;
  std::vector<const char*> marks_;  // this step's phase names, in order
  std::vector<std::pair<std::string, double>> sums_;  // per phase name, in first-seen order
  int64_t steps_ = 0, host_syncs_ = 0;
};

}  // namespace dpst::train
