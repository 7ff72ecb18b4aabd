#include "train/pack_step.h"

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include "common/errors.h"
#include "common/text.h"
#include "train/mixed_precision.h"
#include "train/stop_signal.h"

namespace dpst::train {

using losses::kNumTerms;
using losses::kTermNames;

PackStep::PackStep(std::vector<TrialRun>& runs, models::LossNets& nets, dist::Comm& comm, PhaseTimer& phases,
                   const PackStepSettings& settings)
    : runs_(runs), nets_(nets), comm_(comm), phases_(phases), settings_(settings) {
  std::vector<models::TapNames> vgg, depth;
  for (const auto& r : runs_) {
    vgg.push_back(r.loss->vgg_taps());
    depth.push_back(r.loss->depth_taps());
  }
  vgg_taps_ = losses::union_of(vgg);
  depth_taps_ = losses::union_of(depth);
}

losses::Targets PackStep::targets_of(const torch::Tensor& x) {
  AutocastScope autocast(settings_.device, settings_.bf16);
  return losses::compute_targets(nets_.vgg.net, nets_.depth.net ? &nets_.depth.net : nullptr, x, vgg_taps_,
                                 depth_taps_);
}

torch::Tensor style_of_images(int64_t step, int64_t global_batch, int64_t first_image, int64_t batch, int64_t styles,
                              torch::Device device) {
  DPST_CHECK(step >= 1 && styles >= 1 && batch >= 1, InternalError, "style_of_images: bad step, batch or styles");
  const int64_t start = ((step - 1) % styles) * (global_batch % styles) + first_image;  // no overflow on long runs
  return ((torch::arange(batch, torch::kLong) + start) % styles).to(device);
}

double PackStep::forward_backward(const std::vector<int>& group, const torch::Tensor& x, int64_t step,
                                  const losses::Targets& targets, std::vector<losses::LossTerms>& terms) {
  const int64_t batch = x.size(0);
  const bool one = group.size() == 1;
  std::vector<torch::Tensor> outputs;
  std::vector<torch::Tensor> style_of(runs_.size());  // per multi-style trial: each image's trained style
  models::Taps vgg_out, depth_out;
  {
    AutocastScope autocast(settings_.device, settings_.bf16);
    for (int m : group) {
      TrialRun& r = runs_[m];
      if (!r.multi_style()) {
        outputs.push_back(r.net->forward(x));
        continue;
      }
      style_of[m] = style_of_images(step, settings_.global_batch, settings_.first_image, batch, r.loss->styles(),
                                    settings_.device);
      const int64_t rows = static_cast<int64_t>(r.style_names.size());
      const torch::Tensor one_hot = torch::one_hot(style_of[m] + r.first_trained_style, rows).to(torch::kFloat);
      outputs.push_back(r.net->forward(x, one_hot));
    }
    phases_.mark("f_w_forward");
    const torch::Tensor y = one ? outputs.front() : torch::cat(outputs, 0);
    vgg_out = nets_.vgg.net->forward_taps(y, vgg_taps_);
    if (!depth_taps_.empty()) depth_out = nets_.depth.net->forward_taps(y, depth_taps_);
  }
  for (size_t i = 0; i < group.size(); ++i) {
    const int64_t begin = static_cast<int64_t>(i) * batch;
    const int m = group[i];
    terms[m] = (*runs_[m].loss)(outputs[i], one ? vgg_out : models::slice_taps(vgg_out, begin, batch),
                                one ? depth_out : models::slice_taps(depth_out, begin, batch), targets, style_of[m]);
    if (style_of[m].defined() && terms[m].style_per_image.defined()) {
      // The log window's per-style sums (pack_trainer.cpp reports their group means).
      runs_[m].style_sum.index_add_(0, style_of[m], terms[m].style_per_image.to(torch::kDouble));
      runs_[m].style_images.index_add_(0, style_of[m], torch::ones({batch}, runs_[m].style_images.options()));
    }
  }
  phases_.mark("loss_forward");

  torch::Tensor total;
  for (int m : group) total = total.defined() ? total + terms[m].total : terms[m].total;
  for (int m : group) runs_[m].reducer->begin_backward();
  total.backward();
  double comm_ms = 0;
  for (int m : group) {
    runs_[m].reducer->finish_backward();
    comm_ms += runs_[m].reducer->exposed_ms();
  }
  phases_.mark("backward");
  return comm_ms;
}

std::vector<std::vector<std::string>> PackStep::agree(const std::vector<losses::LossTerms>& terms,
                                                      const std::vector<int>& active, bool* stop) {
  // A row of flags per trial (a column per term, kTermNames' order), and a last row
  // whose first column is the stop flag; the group mean is > 0 where any rank set one.
  const int k = static_cast<int>(runs_.size());
  auto flags = torch::zeros({k + 1, kNumTerms}, torch::TensorOptions().dtype(torch::kFloat).device(settings_.device));
  if (stop_requested()) flags[k][0] = 1.0f;
  for (int m : active) {
    for (int j = 0; j < kNumTerms; ++j) {
      const torch::Tensor& term = terms[m][kTermNames[j]];
      if (term.defined()) flags[m][j] = torch::logical_not(torch::isfinite(term)).to(torch::kFloat);
    }
  }
  comm_.allreduce_mean(flags);
  const torch::Tensor host = flags.cpu();
  const auto f = host.accessor<float, 2>();
  *stop = f[k][0] > 0;
  std::vector<std::vector<std::string>> non_finite(k);
  for (int m : active)
    for (int j = 0; j < kNumTerms; ++j)
      if (f[m][j] > 0) non_finite[m].push_back(kTermNames[j]);
  return non_finite;
}

StepOutcome PackStep::run(const torch::Tensor& x, int64_t step) {
  StepOutcome out;
  out.terms.resize(runs_.size());
  std::vector<int> active;
  for (int m = 0; m < static_cast<int>(runs_.size()); ++m)
    if (!runs_[m].failed) active.push_back(m);

  const losses::Targets targets = targets_of(x);
  phases_.mark("targets");
  if (settings_.joint) {
    out.comm_exposed_ms += forward_backward(active, x, step, targets, out.terms);
  } else {
    for (int m : active) out.comm_exposed_ms += forward_backward({m}, x, step, targets, out.terms);
  }

  const auto agreement_start = std::chrono::steady_clock::now();
  const auto non_finite = agree(out.terms, active, &out.stop);
  out.comm_exposed_ms +=
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - agreement_start).count();
  phases_.mark("agreement");

  for (int m : active) {
    TrialRun& r = runs_[m];
    if (non_finite[m].empty()) {
      out.stepped.push_back(m);
      continue;
    }
    // Its last checkpoint is kept; the rest of the pack goes on.
    r.failed = true;
    r.failure = "trial " + r.label() + ": loss is NaN or Inf at step " + std::to_string(step) + " in term(s): " +
                joined(non_finite[m], ", ") + "; the trial is stopped (its last checkpoint is kept). "
                "Lower optim.lr or the loss weights.";
    spdlog::error("{}", r.failure);
    if (settings_.leader) r.folder().mark_failed(r.failure);
  }
  for (int m : out.stepped) {
    runs_[m].adam->step();
    runs_[m].adam->zero_grad();
  }
  phases_.mark("optimizer");
  return out;
}

}  // namespace dpst::train
