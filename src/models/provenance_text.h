// The words results use for loss networks that ran on random weights
// (loss_nets.allow_random_init): the settings table, eval.json, the ablation tables and
// the sweep summary all take them from here, so one grep for "RANDOM INIT" finds every
// flagged result. Free of LibTorch, so sweep/ and eval/ tables can include it cheaply.
#pragma once

#include <string>
#include <vector>

namespace dpst::models {

inline constexpr char kRandomInit[] = "RANDOM INIT";

enum class NetListStyle {
  kParenthesised,  // "RANDOM INIT (vgg16, hourglass)": eval.json, ablation tables
  kColon,          // "RANDOM INIT: vgg16, depth": the sweep summary's loss_nets column
};

// "pretrained" when no network is random, else kRandomInit with the random ones listed.
inline std::string loss_nets_label(const std::vector<std::string>& random_networks, NetListStyle style) {
  if (random_networks.empty()) return "pretrained";
  std::string list;
  for (size_t i = 0; i < random_networks.size(); ++i) list += (i ? ", " : "") + random_networks[i];
  return std::string(kRandomInit) + (style == NetListStyle::kParenthesised ? " (" + list + ")" : ": " + list);
}

// One network's entry in the settings table: "<variant>: RANDOM INIT (loss_nets.allow_random_init)".
inline std::string random_init_entry(const std::string& variant) {
  return (variant.empty() ? "" : variant + ": ") + std::string(kRandomInit) + " (loss_nets.allow_random_init)";
}

// The sentence results print under a table of random-init runs.
inline std::string random_init_warning(const std::string& what) {
  return std::string(kRandomInit) + " loss networks: " + what + " are not comparable with pretrained ones";
}

}  // namespace dpst::models
