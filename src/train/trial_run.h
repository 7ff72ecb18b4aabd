// One trial of a pack while it trains: its f_W, Adam, loss, gradient buckets,
// checkpoints, folder and metrics (pack_trainer.cpp builds them; pack_step.cpp steps them).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "dist/grad_reducer.h"
#include "losses/term_names.h"
#include "losses/trial_loss.h"
#include "models/transform_net.h"
#include "train/checkpoint_store.h"
#include "train/trial.h"
#include "trial_folder/trial_folder.h"

namespace dpst::train {

// A value per loss term, by name (losses::kTermNames).
using TermValues = std::map<std::string, double>;

struct TrialRun {
  const TrialSpec* spec = nullptr;
  models::TransformNet net{nullptr};
  std::unique_ptr<torch::optim::Adam> adam;
  std::unique_ptr<losses::TrialLoss> loss;
  std::unique_ptr<dist::GradientReducer> reducer;
  std::unique_ptr<CheckpointStore> store;
  std::unique_ptr<trial_folder::MetricsLog> metrics;  // group rank 0 only
  bool failed = false;
  std::string failure;
  TermValues last;  // group-mean terms at the last log step (zero before the first)

  // A multi-style trial (loss.style_image a list, or model.extend_from): f_W has one
  // InstanceNorm row per style. Rows from first_trained_style on are trained, one per
  // image of loss.style_image; the rows before come from model.extend_from and stay frozen.
  std::vector<std::string> style_names;  // every row's style, in row order; empty for one style
  int64_t first_trained_style = 0;
  torch::Tensor style_sum, style_images;  // per trained style, on the device: style term and
                                          // images since the last metrics record
  bool multi_style() const { return style_names.size() > 1; }

  const std::string& label() const { return spec->id; }
  trial_folder::TrialFolder folder() const { return trial_folder::TrialFolder(spec->dir); }
};

}  // namespace dpst::train
