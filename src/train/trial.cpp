#include "train/trial.h"

#include <cstdint>

#include <yaml-cpp/yaml.h>

#include "train/checkpoint_store.h"

namespace dpst::train {

namespace fs = std::filesystem;

const char* to_string(TrialStatus status) {
  switch (status) {
    case TrialStatus::kNew: return "new";
    case TrialStatus::kInProgress: return "in progress";
    case TrialStatus::kFinished: return "finished";
    case TrialStatus::kFailed: return "failed";
  }
  return "?";
}

TrialStatus trial_status(const fs::path& dir, int64_t iterations) {
  if (fs::exists(dir / kFinishedMarker)) {
    try {
      const YAML::Node done = YAML::LoadFile((dir / kFinishedMarker).string());
      if (done["step"] && done["step"].as<int64_t>() >= iterations) return TrialStatus::kFinished;
    } catch (const YAML::Exception&) {
      return TrialStatus::kFinished;  // written by hand: trust it
    }
  }
  if (fs::exists(dir / kFailedMarker)) return TrialStatus::kFailed;
  if (CheckpointStore(dir / "checkpoints", 1).latest()) return TrialStatus::kInProgress;
  return TrialStatus::kNew;
}


}  // namespace dpst::train
