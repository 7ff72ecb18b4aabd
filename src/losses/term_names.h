// The names of the loss terms, in the order every log line, metrics.jsonl record,
// progress.yml, summary table, eval.json and ablation table lists them. This is the one
// list: code that reports terms iterates it, and code that holds terms is addressed by
// these names. Free of LibTorch, so sweep/ and eval/ tables can include it cheaply.
#pragma once

#include <array>
#include <string>
#include <string_view>

namespace dpst::losses {

inline constexpr std::array<const char*, 5> kTermNames = {"content", "style", "depth", "tv", "total"};
inline constexpr int kNumTerms = static_cast<int>(kTermNames.size());

// Position of a term name in kTermNames, or -1 for a name that is not a loss term.
inline int term_index(std::string_view name) {
  for (int i = 0; i < kNumTerms; ++i)
    if (name == kTermNames[static_cast<size_t>(i)]) return i;
  return -1;
}

// A multi-style trial also reports its style term per style, under "style_<style name>"
// (metrics.jsonl, progress.yml, the sweep summary), after the terms above.
inline constexpr std::string_view kPerStylePrefix = "style_";
inline std::string per_style_term(std::string_view style) { return std::string(kPerStylePrefix) + std::string(style); }
inline bool is_per_style_term(std::string_view name) {
  return name.size() > kPerStylePrefix.size() && name.substr(0, kPerStylePrefix.size()) == kPerStylePrefix;
}

}  // namespace dpst::losses
