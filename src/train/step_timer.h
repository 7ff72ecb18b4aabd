// Where the time of a log window went, for the progress line and metrics.jsonl: wall
// time per step, waiting for the loader and exposed communication, and the ETA. The
// training loop marks each step's start and end and adds what it measured; a log line
// reads the window and then starts the next one.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace dpst::train {

class StepTimer {
 public:
  using Clock = std::chrono::steady_clock;

  struct Window {
    int64_t steps = 0;           // steps in the window
    double seconds = 0;          // wall time since the window began
    double step_ms = 0;          // per step: wall time of the step itself
    double loader_wait_ms = 0;   // per step: waiting for the next batch
    double comm_exposed_ms = 0;  // per step: communication not hidden behind compute
    double eta_seconds = 0;      // to `iterations`, at the run's mean pace so far
  };

  explicit StepTimer(int64_t first_step)
      : first_step_(first_step), run_start_(Clock::now()), window_start_(run_start_) {}

  static double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  }

  void start_step() { step_start_ = Clock::now(); }
  void add_loader_wait_ms(double ms) { wait_ms_ += ms; }
  void add_comm_ms(double ms) { comm_ms_ += ms; }
  void end_step() {
    ++steps_;
    step_ms_ += ms_since(step_start_);
  }

  // The window so far, `step` being the last finished step.
  Window window(int64_t step, int64_t iterations) const {
    Window w;
    w.steps = steps_;
    w.seconds = ms_since(window_start_) / 1000.0;
    const double per_step = 1.0 / static_cast<double>(std::max<int64_t>(1, steps_));
    w.step_ms = step_ms_ * per_step;
    w.loader_wait_ms = wait_ms_ * per_step;
    w.comm_exposed_ms = comm_ms_ * per_step;
    const double run_s = ms_since(run_start_) / 1000.0;
    w.eta_seconds = run_s / static_cast<double>(std::max<int64_t>(1, step - first_step_)) *
                    static_cast<double>(iterations - step);
    return w;
  }

  void start_window() {
    window_start_ = Clock::now();
    steps_ = 0;
    step_ms_ = wait_ms_ = comm_ms_ = 0;
  }

 private:
  int64_t first_step_;
  Clock::time_point run_start_, window_start_, step_start_;
  int64_t steps_ = 0;
  double step_ms_ = 0, wait_ms_ = 0, comm_ms_ = 0;
};

}  // namespace dpst::train
