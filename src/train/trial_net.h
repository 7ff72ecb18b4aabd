// A trial's f_W and which of its parameters train:
//  - one style (loss.style_image one path): today's TransformerNet;
//  - several (a list): one conditional InstanceNorm row per style, everything else shared;
//  - styles added to a trained net (model.extend_from): the file's weights and rows, plus
//    one new row per loss.style_image; only the new rows train.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "config/config.h"
#include "models/transform_net.h"

namespace dpst::train {

struct TrialNet {
  models::TransformNet net{nullptr};
  std::vector<std::string> style_names;  // every row's style, in row order; empty for one style
  int64_t first_trained_style = 0;       // rows before it come from model.extend_from, frozen
};

// Builds the f_W of a trial's config on the CPU, from the current torch seed (or from
// model.extend_from). ConfigError naming the key when the file's width or blocks differ
// from model.*, or when a new style reuses one of its names.
TrialNet make_trial_net(const config::Config& config);

// Sets requires_grad = false on what must not train (the normalised-away parameters, and
// with model.extend_from every shared parameter) and masks the base styles' rows out of
// the gradient. Call once, before the gradient reducer registers its hooks (which then see
// the masked gradient), so Adam never moves a frozen row. Returns the parameters to optimise.
std::vector<torch::Tensor> freeze_untrained(TrialNet& trial, bool extending);

}  // namespace dpst::train
