// A trial to train: its id, its resolved configuration and its folder (whose files
// src/trial_folder owns), and what is on disk for it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"

namespace dpst::train {

struct TrialSpec {
  std::string id;          // stable, from the trial's parameters ("run" for a plain run)
  config::Config config;   // the trial's resolved configuration
  std::filesystem::path dir;
};

enum class TrialStatus { kNew, kInProgress, kFinished, kFailed };
const char* to_string(TrialStatus status);

// What is on disk for a trial folder. A trial FINISHED at fewer steps than `iterations`
// counts as in progress again, so raising train.iterations extends a finished run.
TrialStatus trial_status(const std::filesystem::path& dir, int64_t iterations);

}  // namespace dpst::train
