// src/sweep owns what turns one configuration into the trials of a sweep (DESIGN.md §9):
//  - expansion of sweep.axes (grid or seeded random search) into trials, each validated
//    before anything runs;
//  - the stable id and folder of a trial;
//  - the --list-trials table;
//  - packs (trials co-trained by one rank group) and their deterministic assignment
//    to rank groups;
//  - the sweep summary (summary.csv, summary.md) written as trials finish.
// It does not train: src/train runs the packs this plans.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace dpst::sweep {

struct Trial {
  // Stable and filesystem-safe, made from the swept values only (see trial_id.h):
  // e.g. "candy-d2.8e5-dl_output-3f2a91c0". "run" for a configuration without a sweep.
  std::string id;
  // The base configuration with this trial's values set. Its sweep section is reset to
  // method: none, axes: {}, num_trials: 0, so the trial's config.yaml re-runs it alone.
  config::Config config;
  // Swept key -> value as format_value() writes it, in axis order (empty for "run").
  std::vector<std::pair<std::string, std::string>> params;
  // The sweep.method that made it: none, grid or random.
  std::string method = "none";
};

// The trials of a configuration.
//  none   exactly one Trial, id "run", no params.
//  grid   the Cartesian product of the axes. ORDER: nested loops in the order the axes
//         are written in the YAML, the first axis varying slowest and the last fastest.
//         axes {a: [1, 2], b: [x, y, z]} gives (1,x) (1,y) (1,z) (2,x) (2,y) (2,z).
//  random sweep.num_trials draws seeded by run.seed (a generator of our own, splitmix64,
//         so every machine and standard library draws the same). Per trial, one value per
//         axis in axis order: a list axis picks one of its values uniformly; a range axis
//         {uniform: [lo, hi]} or {log_uniform: [lo, hi]} (int/float keys) draws from the
//         range, log-uniform as exp(U(log lo, log hi)). Float draws keep 4 significant
//         digits (readable ids and tables; the same on every libm); int draws round to
//         the nearest integer. A draw equal to an earlier trial is dropped and drawn
//         again, so the first N trials of a longer search are the same N trials.
// Every trial's config is validated (the cross-field pass, with the trial's values) and
// ALL problems of all trials are thrown at once as config::ConfigProblems, each message
// prefixed with "trial <id>: ". Also rejected there: a range axis outside random search,
// more distinct trials asked for than the axes allow, two trials with the same id.
std::vector<Trial> expand(const config::Config& base, int world_size, bool for_run);

// At most this many trials per sweep (a folder each); more is surely a typo.
inline constexpr size_t kMaxTrials = 100000;

// The folder of a trial: <run.output_dir>/<run.name>/<id> for a sweep,
// <run.output_dir>/<run.name> for sweep.method: none.
std::filesystem::path trial_dir(const config::Config& base, const Trial& trial);

// The --list-trials table: '#' header lines (sweep name, method, numbers of trials,
// packs and rank groups, the folder), then one fixed-width row per trial: index, id,
// pack, group and every swept value.
std::string trials_table(const std::vector<Trial>& trials, int trials_per_pack, int num_groups);

// Packs: consecutive trials in expansion order, trials_per_pack each (the last may be
// smaller). Returns the trial indices of each pack.
std::vector<std::vector<size_t>> make_packs(size_t num_trials, int trials_per_pack);
// Group g trains packs g, g + num_groups, g + 2*num_groups, ... (round robin: the same
// on every rank and every restart, and balanced to within one pack).
std::vector<size_t> packs_of_group(size_t num_packs, int num_groups, int group);

// The outcome of one trial, for the summary.
struct TrialResult {
  std::string status;                // "finished" or "failed"
  int64_t steps = 0;                 // optimizer steps done
  std::map<std::string, double> losses;  // final raw terms: content, style, depth, tv, total (NaN = not computed)
  std::string note;                  // e.g. the failure message
};

// A trial's summary row from what its folder holds, for trials that an earlier run
// finished or failed: the step and loss terms of FINISHED (or, failed, of progress.yml),
// and the message in FAILED. A hand-written marker still gives the status.
TrialResult result_from_folder(const std::filesystem::path& trial_dir, bool failed);

// The loss columns of the summary, in order; TrialResult::losses may hold any of them.
const std::vector<std::string>& summary_loss_columns();

// Adds (or replaces) the row of one trial and rewrites <sweep_dir>/summary.csv and
// summary.md. Rows are sorted by trial id; columns: trial, status, every swept key,
// steps, the loss columns, loss_nets (pretrained or RANDOM INIT: which), finished_at
// (UTC), note. Safe when several processes call it at once: it holds an exclusive
// flock() on <sweep_dir>/summary.lock while it reads summary.csv and writes both files
// atomically (temporary, fsync, rename). `made_by` is the Markdown text under the title
// of summary.md (see summary_header). Throws OutputError.
void record_result(const std::filesystem::path& sweep_dir, const Trial& trial, const TrialResult& result,
                   const std::string& made_by);

// "How it was made" for summary.md: the command line (when given), the hash of the base
// configuration's --dump-config text, and the loss networks' weight files or RANDOM INIT.
std::string summary_header(const config::Config& base, const std::string& command_line);

}  // namespace dpst::sweep
