// The golden loss setup of tests/models/make_golden.py, rebuilt in C++.
#pragma once

#include <sstream>

#include "losses/losses.h"
#include "models/golden.h"
#include "models/models.h"

namespace dpst::test {

inline std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

struct LossSetup {
  models::Vgg16 vgg;
  models::Hourglass depth;
  std::map<std::string, torch::Tensor> golden;
  models::WeightFileInfo info;
  losses::LossWeights weights;
  losses::LossLayers layers;

  LossSetup() {
    models::det_init(*vgg, kSeedVgg);
    models::det_init(*depth, kSeedHourglass);
    models::freeze(*vgg);
    models::freeze(*depth);
    golden = read_golden("losses.h5");
    info = models::read_weight_file_info(golden_path("losses.h5"));
    weights = {std::stod(info.attribute("lambda_content")), std::stod(info.attribute("lambda_style")),
               std::stod(info.attribute("lambda_depth")), std::stod(info.attribute("lambda_tv"))};
    layers = {split_commas(info.attribute("content_layers")), split_commas(info.attribute("style_layers")),
              split_commas(info.attribute("depth_layers"))};
  }

  losses::TrialLoss trial(losses::LossWeights w) {
    return losses::TrialLoss(w, layers, losses::style_grams(vgg, golden.at("style"), layers.style));
  }

  // One trial's forward through the whole loss stack.
  losses::LossTerms evaluate(const losses::TrialLoss& loss, models::TransformNet& fw, const torch::Tensor& x) {
    const losses::Targets targets = losses::compute_targets(vgg, &depth, x, loss.vgg_taps(), layers.depth);
    const torch::Tensor y = fw->forward(x);
    return loss(y, vgg->forward_taps(y, loss.vgg_taps()), depth->forward_taps(y, layers.depth), targets);
  }
};

}  // namespace dpst::test
