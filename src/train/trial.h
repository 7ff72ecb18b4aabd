// A trial: one f_W trained with one resolved configuration, in a folder of its own:
//   <dir>/config.yaml     the resolved configuration (dpst-dist --dump-config format)
//   <dir>/checkpoints/    step-XXXXXXXX/ folders (checkpoint_store.h)
//   <dir>/metrics.jsonl, progress.yml, dpst.log
//   <dir>/model.h5        the exported f_W (pytorch/examples TransformerNet names)
//   <dir>/FINISHED        written last when training completed: the trial counts as done
//   <dir>/FAILED          written when the trial stopped on an error (the message inside)
// A plain run is a sweep of one trial whose folder is <run.output_dir>/<run.name>; a sweep's
// trials live in <run.output_dir>/<run.name>/<trial id>/ (sweep/sweep.h).
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

inline constexpr const char* kFinishedMarker = "FINISHED";
inline constexpr const char* kFailedMarker = "FAILED";

}  // namespace dpst::train
