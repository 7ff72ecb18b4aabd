// Training one pack of trials on one rank group (DESIGN.md §3, §8, §9). The trials share
// one batch stream, and the content/depth targets of x are computed once per step for
// the pack. sweep.pack_frozen_pass says how the frozen networks see the pack's outputs:
// joint (one batch through them, one backward over the sum of the trials' losses) or
// per trial (each trial's forward and backward in turn; the CPU default). Each trial
// keeps its own f_W, Adam, gradient buckets, checkpoints and NaN handling (a trial that
// diverges is marked FAILED and the rest of its pack goes on).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "dist/comm.h"
#include "train/trial.h"

namespace dpst::train {

struct GroupContext {
  dist::Comm* comm = nullptr;  // the rank group's communicator
  torch::Device device = torch::kCPU;
  std::string device_text = "cpu";  // for the settings table (what train.device auto found)
  int threads = 1;             // intra-op threads of this rank
  int world_size = 1;
  int num_groups = 1;
  int group_index = 0;
  bool resume = true;          // continue from the newest complete checkpoint
};

enum class PackOutcome {
  kFinished,  // every trial finished or failed (see each trial's folder)
  kStopped,   // a stop signal: checkpointed, requeue
};

struct PackResult {
  PackOutcome outcome = PackOutcome::kFinished;
  int64_t steps = 0;                              // optimizer steps done by the pack
  std::vector<TrialStatus> status;                // per trial, in pack order
  std::vector<std::string> failure;               // message per trial ("" when not failed)
  std::vector<std::map<std::string, double>> losses;  // per trial: group-mean terms at the last log step
};

// Trains the trials (all with the same data, train and loss_nets settings) to
// train.iterations, or until a stop signal. Throws on errors that are not a trial's own.
PackResult train_pack(const std::vector<TrialSpec>& trials, const GroupContext& context);

}  // namespace dpst::train
