// Everything needed to continue a trial exactly where it stopped, and its files inside
// a checkpoint folder:
//   model.h5      f_W weights (weight-file format, TransformerNet names)
//   optimizer.h5  Adam per trained parameter: <name>.exp_avg, <name>.exp_avg_sq, <name>.step,
//                 and rng_state, the default CPU generator's state (plain HDF5 datasets,
//                 so two checkpoints of the same state are equal file for file)
//   state.yml     step, sampler cursor (epoch, batch), images seen
//   config.yaml the trial's resolved configuration
//   progress.yml a copy of the trial's progress file at that step
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "models/transform_net.h"

#include "data/sampler.h"

namespace dpst::train {

struct TrialState {
  int64_t step = 0;      // optimizer steps done
  data::Cursor cursor;   // the sampler position of the next batch
  int64_t images_seen = 0;
};

// Writes the trial's state into `folder` (an empty checkpoint folder).
void write_trial_state(const std::filesystem::path& folder, models::TransformNetImpl& net, torch::optim::Adam& adam,
                       const TrialState& state, const std::string& config_yaml, const std::string& progress_yaml);

// Reads a checkpoint folder back into net and adam; returns step and cursor. Throws
// InputError naming the folder and file when something is missing or does not match.
TrialState read_trial_state(const std::filesystem::path& folder, models::TransformNetImpl& net, torch::optim::Adam& adam);

// Adam's moments and step counts by parameter name (tensors on CPU), for checkpoints and tests.
std::vector<std::pair<std::string, torch::Tensor>> adam_state(models::TransformNetImpl& net, torch::optim::Adam& adam);

}  // namespace dpst::train
