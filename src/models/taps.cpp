#include "models/taps.h"

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "common/errors.h"

namespace dpst::models {

Taps slice_taps(const Taps& taps, int64_t begin, int64_t count) {
  Taps out;
  for (const auto& [name, t] : taps) {
    DPST_CHECK(begin >= 0 && begin + count <= t.size(0), InternalError,
               "tap '" << name << "' has batch " << t.size(0) << ", cannot take rows [" << begin << ", "
                       << begin + count << ")");
    out.emplace(name, t.narrow(0, begin, count));
  }
  return out;
}

void check_tap_names(const TapNames& wanted, const TapNames& known, const std::string& network) {
  for (const auto& name : wanted) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::ostringstream list;
      for (size_t i = 0; i < known.size(); ++i) list << (i ? ", " : "") << known[i];
      DPST_THROW(ConfigError, "unknown " << network << " tap '" << name << "'; known taps: " << list.str());
    }
  }
}

void freeze(torch::nn::Module& module) {
  module.eval();
  for (auto& p : module.parameters(/*recurse=*/true)) p.set_requires_grad(false);
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters(true)) n += p.numel();
  return n;
}

int64_t buffer_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& b : module.buffers(true)) n += b.numel();
  return n;
}

}  // namespace dpst::models
