// Loss-curve plots from metrics.jsonl, drawn by dataprep/plot_curves.py (matplotlib) in
// the project's Python environment: a post-step, so the training binaries link no
// plotting library. The interpreter is $DPST_PYTHON, else the one CMake found (DPST_PYTHON,
// normally .venv/bin/python). A missing interpreter or matplotlib is not fatal: the
// caller logs the returned reason and carries on.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dpst::eval {

// <trial>/curves.png: every loss term and the total against the step (log y).
// Returns the reason when it could not be written.
std::optional<std::string> write_trial_curves(const std::filesystem::path& trial_dir);

// One overlay for a sweep: a panel per term, a line per trial. Returns the reason when
// it could not be written.
std::optional<std::string> write_sweep_curves(const std::filesystem::path& out_png,
                                              const std::vector<std::filesystem::path>& trial_dirs);

}  // namespace dpst::eval
