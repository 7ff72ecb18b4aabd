// One optimizer step of a pack: the one forward-backward path for both frozen-pass modes,
// then the ranks' agreement on stop signals and non-finite losses, then Adam.
//
//   targets of x (once for the pack, no grad)
//   for each forward group (joint: every active trial at once; per trial: one at a time)
//       f_W of each trial in the group -> the frozen nets on their outputs as one batch
//       -> each trial's terms on its slice -> one backward over the group's summed totals,
//       each trial's gradients all-reduced bucket by bucket while backward runs
//   one agreement (an all-reduce of flags): a stop signal on any rank; per trial, a NaN
//       or Inf term on any rank. Such a trial is marked FAILED and does not step; its
//       backward still ran above, so every rank ran the same collectives.
//   Adam step of each trial that steps.
// A multi-style trial's f_W gets each image's style as a one-hot row (style_of_images):
// the assignment depends only on the step and the image's place in the global batch.

// Only one group's graph is alive at a time, so per-trial packs keep memory flat in the
// pack size while joint packs fill a GPU with one large batch.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "dist/comm.h"
#include "losses/trial_loss.h"
#include "models/loss_nets.h"
#include "train/phase_timer.h"
#include "train/trial_run.h"

namespace dpst::train {

struct PackStepSettings {
  torch::Device device = torch::kCPU;
  bool joint = false;   // sweep.pack_frozen_pass resolved for this device and pack
  bool bf16 = false;    // train.precision: forward passes under bf16 autocast
  bool leader = false;  // group rank 0: writes FAILED markers
  int64_t global_batch = 1;  // images per step over the group (batch_size x ranks)
  int64_t first_image = 0;   // this rank's first image in the global batch (rank x batch_size)
};

// The style (0..styles-1) of each of this rank's `batch` images at step `step` (1-based):
// image g of the global batch trains style ((step − 1)·global_batch + g) mod styles, with
// g = first_image + k as the sampler lays the batch out. So G ranks × b train what 1 rank ×
// G·b trains, a resumed run what a straight one does, and the styles take turns evenly.
torch::Tensor style_of_images(int64_t step, int64_t global_batch, int64_t first_image, int64_t batch, int64_t styles,
                              torch::Device device);

struct StepOutcome {
  bool stop = false;                      // a stop signal reached some rank of the group
  std::vector<int> stepped;               // trials (indices into the pack) that took the step
  std::vector<losses::LossTerms> terms;   // per trial of the pack (undefined for inactive trials)
  double comm_exposed_ms = 0;             // communication not hidden behind compute
};

class PackStep {
 public:
  PackStep(std::vector<TrialRun>& runs, models::LossNets& nets, dist::Comm& comm, PhaseTimer& phases,
           const PackStepSettings& settings);

  // Step number `step` (1-based) on batch x, already on the device.
  StepOutcome run(const torch::Tensor& x, int64_t step);

 private:
  std::vector<TrialRun>& runs_;
  models::LossNets& nets_;
  dist::Comm& comm_;
  PhaseTimer& phases_;
  PackStepSettings settings_;
  models::TapNames vgg_taps_, depth_taps_;  // what the pack's trials need, together

  losses::Targets targets_of(const torch::Tensor& x);
  double forward_backward(const std::vector<int>& group, const torch::Tensor& x, int64_t step,
                          const losses::Targets& targets, std::vector<losses::LossTerms>& terms);
  std::vector<std::vector<std::string>> agree(const std::vector<losses::LossTerms>& terms,
                                              const std::vector<int>& active, bool* stop);
};

}  // namespace dpst::train
