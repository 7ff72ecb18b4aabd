// The names of the loss terms, in the order every log line, metrics.jsonl record,
// progress.yml, summary table, eval.json and ablation table lists them. This is the one
// list: code that reports terms iterates it, and code that holds terms is addressed by
// these names. Free of LibTorch, so sweep/ and eval/ tables can include it cheaply.
#pragma once

#include <array>
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

}  // namespace dpst::losses
