// The loss stack of one trial, designed for a pack of K co-trained trials on one batch x:
//   1. targets = compute_targets(vgg, depth, x, union of the pack's layers)  — once per
//      step, no-grad, shared by the pack;
//   2. the frozen nets see the pack's outputs ŷ_1..ŷ_K either as ONE concatenated batch
//      (slice_taps(taps, m*B, B) gives trial m's rows) or one trial at a time
//      (sweep.pack_frozen_pass, train/pack_trainer.h);
//   3. terms_m = trial_m(ŷ_m, its taps, targets); backward runs over Σ_m terms_m.total
//      (joint) or over each trial's total in turn.
// Each trial holds its own λ's, layer sets and style Grams (computed once, at
// construction). A multi-style trial holds one Gram per style and layer, stacked (S, C, C);
// each image of its batch is scored against its own style's Grams (style_of). A term whose λ is 0 is still reported when its taps are given, but is
// left out of the total (so λ3 = 0 is exactly the Johnson et al. baseline).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "losses/term_names.h"
#include "losses/terms.h"
#include "models/hourglass.h"
#include "models/vgg16.h"

namespace dpst::losses {

// The λ's and layer sets of one trial. No defaults here: a configured trial takes them
// from its loss section (TrialLoss::from_config), whose defaults the registry holds.
struct LossWeights {
  double content;  // λ1
  double style;    // λ2
  double depth;    // λ3
  double tv;       // λ_tv
};

struct LossLayers {
  TapNames content;
  TapNames style;
  TapNames depth;
};

// Features of the content batch x, computed once per step without grad.
struct Targets {
  Taps content;  // VGG16 taps of x
  Taps depth;    // hourglass taps of x (empty when no trial uses the depth term)
};

// depth may be null (or depth_taps empty): then targets.depth stays empty.
Targets compute_targets(models::Vgg16& vgg, models::Hourglass* depth, const torch::Tensor& x,
                        const TapNames& vgg_taps, const TapNames& depth_taps);

// Gram targets (1, C, C) of a style image (1, 3, H, W), RGB in [0, 1], without grad.
std::map<std::string, torch::Tensor> style_grams(models::Vgg16& vgg, const torch::Tensor& style_image,
                                                 const TapNames& layers);
// The same for several style images: (S, C, C) per layer, row s from style_images[s].
std::map<std::string, torch::Tensor> style_grams(models::Vgg16& vgg, const std::vector<torch::Tensor>& style_images,
                                                 const TapNames& layers);

// The terms of one evaluation. Raw (unweighted) terms; total = Σ λ·term over terms with
// λ > 0. A term that was not computed is an undefined tensor.
struct LossTerms {
  torch::Tensor content, style, depth, tv, total;
  // The style term per image (B), without grad, when the styles of the images were given.
  torch::Tensor style_per_image;
  // The term called `name` (one of kTermNames); throws InternalError for another name.
  const torch::Tensor& operator[](std::string_view name) const;
  // Host values by name (synchronises with the device); NaN for a term not computed.
  std::map<std::string, double> values() const;
};

class TrialLoss {
 public:
  // style_grams: per style layer, (S, C, C) for S styles (S = 1: one style, as (1, C, C)).
  TrialLoss(LossWeights weights, LossLayers layers, std::map<std::string, torch::Tensor> style_grams);
  // The config's loss section; the style Grams from the given style images (one per style).
  static TrialLoss from_config(const config::LossConfig& loss, models::Vgg16& vgg,
                               const std::vector<torch::Tensor>& style_images);

  int64_t styles() const { return styles_; }
  const LossWeights& weights() const { return weights_; }
  const LossLayers& layers() const { return layers_; }
  TapNames vgg_taps() const;    // the VGG16 taps this trial needs (content ∪ style layers)
  TapNames depth_taps() const;  // the hourglass taps it needs (empty when λ3 = 0)

  // y_hat: this trial's outputs (B, 3, H, W); vgg_out / depth_out: taps of y_hat (this
  // trial's slice of the pack); targets: of the same x rows. style_of: (B) int64, the
  // style (0..styles()-1) of each image; needed when styles() > 1. When given, the style
  // term is the mean of per-image terms, also returned in style_per_image.
  LossTerms operator()(const torch::Tensor& y_hat, const Taps& vgg_out, const Taps& depth_out,
                       const Targets& targets, const torch::Tensor& style_of = {}) const;

 private:
  LossWeights weights_;
  LossLayers layers_;
  std::map<std::string, torch::Tensor> style_grams_;
  int64_t styles_ = 1;
};

// Union of tap lists, order of first appearance.
TapNames union_of(const std::vector<TapNames>& lists);

}  // namespace dpst::losses
