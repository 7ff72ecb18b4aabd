#include "eval/style_mix.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "common/errors.h"
#include "common/text.h"

namespace dpst::eval {

std::vector<StyleMix> parse_style_mixes(const std::string& spec, const std::vector<std::string>& names) {
  const int64_t n = static_cast<int64_t>(names.size());
  DPST_CHECK(n >= 1, InputError, "--style: the model names no styles");
  std::vector<StyleMix> out;
  if (spec.empty()) {
    for (int64_t s = 0; s < n; ++s) {
      torch::Tensor w = torch::zeros({n});
      w[s] = 1.0f;
      out.push_back({names[static_cast<size_t>(s)], w});
    }
    return out;
  }
  torch::Tensor w = torch::zeros({n});
  std::vector<std::string> label;
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (const std::string& part : split(spec, ',')) {
    const auto eq = part.find('=');
    const std::string name = part.substr(0, eq);
    const auto it = std::find(names.begin(), names.end(), name);
    DPST_CHECK(it != names.end(), InputError,
               "--style " << spec << ": no style '" << name << "' in this model (it has: " << joined(names, ", ") << ")");
    double weight = 1.0;
    if (eq != std::string::npos) {
      const std::string text = part.substr(eq + 1);
      char* end = nullptr;
      weight = std::strtod(text.c_str(), &end);
      DPST_CHECK(!text.empty() && end && *end == '\0' && std::isfinite(weight) && weight >= 0, InputError,
                 "--style " << spec << ": the weight of '" << name << "' must be a number >= 0, got '" << text << "'");
    }
    const int64_t s = it - names.begin();
    DPST_CHECK(!seen[static_cast<size_t>(s)], InputError, "--style " << spec << ": '" << name << "' is given twice");
    seen[static_cast<size_t>(s)] = true;
    w[s] = static_cast<float>(weight);
    label.push_back(eq == std::string::npos ? name : name + part.substr(eq + 1));
  }
  const double total = w.sum().item<double>();
  DPST_CHECK(total > 0, InputError, "--style " << spec << ": the weights sum to 0");
  out.push_back({joined(label, "-"), total == 1.0 ? w : w / total});
  return out;
}

}  // namespace dpst::eval
