// Which styles of a many-style f_W (models/transform_net.h) to stylize with: dpst-stylize's
// --style. "candy" is one style; "candy=0.7,wave=0.3" blends their InstanceNorm rows with
// those weights (scaled to sum to 1, as Dumoulin et al. blend); no --style gives one output
// per style.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

namespace dpst::eval {

struct StyleMix {
  std::string label;      // for output names: "candy", or "candy0.7-wave0.3" for a blend
  torch::Tensor weights;  // (N) float, sums to 1
};

// `spec` against the model's style names (in file order). Empty spec: every style, one-hot.
// InputError naming the part that is wrong: an unknown style (with the ones there are), a
// weight that is not a number >= 0, a style given twice, or weights summing to 0.
std::vector<StyleMix> parse_style_mixes(const std::string& spec, const std::vector<std::string>& names);

}  // namespace dpst::eval
