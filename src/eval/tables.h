// ablation.csv, ablation.md and ablation-provenance.txt: one row per evaluated trial, and
// the ablation view that
// puts each style's λ3 = 0 baseline next to its depth-preserving trials. The CSV starts
// with its header row, so that csv readers, pandas and spreadsheets load it as it is; how
// it was made goes into the markdown's first lines and the provenance sidecar. The text is a
// pure function of its inputs (fixed number format, sorted rows, no timestamps, no
// throughput), so evaluating the same models again writes the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "eval/evaluate.h"

namespace dpst::eval {

// "How it was made": the markdown's first lines and ablation-provenance.txt.
struct TableProvenance {
  std::string command;      // the dpst-eval command line
  std::string config_hash;  // of the base config (sweep.yaml) or of the one model's config
  std::string loss_nets;    // "pretrained" or "RANDOM INIT (...)"
  std::string weights;      // the weight files (or random-init sources)
  std::string dataset;      // path and split
  int64_t images = 0;
  int64_t pairs = 0;
};

// Rows sorted by (style, λ3, trial id): the order every table uses.
std::vector<TrialEval> sorted_rows(std::vector<TrialEval> rows);

// The baseline of a style: its first λ3 = 0 trial by id, or nullptr.
const TrialEval* baseline_of(const std::vector<TrialEval>& rows, const std::string& style);

std::string ablation_csv(const std::vector<TrialEval>& rows);
std::string ablation_markdown(const TableProvenance& how, const std::vector<TrialEval>& rows);
// "command: ...", "config hash: ...", ... one line each.
std::string ablation_provenance(const TableProvenance& how);

// Writes <dir>/ablation.csv, ablation.md and ablation-provenance.txt (atomically); returns
// their paths.
std::vector<std::filesystem::path> write_tables(const std::filesystem::path& dir, const TableProvenance& how,
                                                const std::vector<TrialEval>& rows);

}  // namespace dpst::eval
