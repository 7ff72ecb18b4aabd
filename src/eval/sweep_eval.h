// What dpst-eval does: evaluate every finished trial of a sweep folder (or one exported
// model) and write the ablation tables and the per-style image grids.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

#include "eval/evaluate.h"

namespace dpst::eval {

struct EvalRunOptions {
  std::filesystem::path target;  // a sweep folder, or a model .h5 file
  std::filesystem::path out;     // empty: the sweep folder / the model's folder
  std::filesystem::path data;    // empty: each config's data.path
  std::filesystem::path config;  // model mode without a config.yaml beside the model
  int64_t images = 0;            // <= 0: the config's eval.images
  int64_t grid_images = 4;       // val images per grid
  torch::Device device = torch::kCPU;
  std::string command;           // written into the tables' header
};

struct EvalRunResult {
  std::vector<TrialEval> rows;             // in table order
  std::vector<std::filesystem::path> files;  // tables and grids written
  std::vector<std::string> notes;          // trials skipped, grids not drawn, and why
};

// Sweep mode: every sub-folder holding FINISHED, by id; each also gets its eval.json.
// InputError when the folder has no finished trial. Model mode: one row.
EvalRunResult run_eval(const EvalRunOptions& options);

}  // namespace dpst::eval
