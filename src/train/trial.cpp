#include "train/trial.h"

#include <cstdint>

#include "train/checkpoint_store.h"
#include "trial_folder/trial_folder.h"

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
  const trial_folder::TrialFolder folder(dir);
  if (folder.has_finished_marker()) {
    const auto done = folder.finished();
    if (!done || done->step >= iterations) return TrialStatus::kFinished;  // no step in it: written by hand, trusted
  }
  if (folder.has_failed_marker()) return TrialStatus::kFailed;
  if (CheckpointStore(folder.checkpoints(), 1).latest()) return TrialStatus::kInProgress;
  return TrialStatus::kNew;
}

}  // namespace dpst::train
