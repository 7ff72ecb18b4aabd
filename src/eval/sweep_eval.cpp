#include "eval/sweep_eval.h"
#include "trial_folder/trial_folder.h"

#include <algorithm>
#include <cstdint>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "data/image_io.h"
#include "eval/curves.h"
#include "eval/grid.h"
#include "eval/tables.h"

namespace dpst::eval {
namespace fs = std::filesystem;
namespace {

// The grid's two models for a style: the baseline (first λ3 = 0 trial) and the
// λ3 > 0 trial with the largest λ3 (first by id on ties). False when either is missing.
bool grid_pair(const std::vector<TrialEval>& rows, const std::string& style, const TrialEval** base,
               const TrialEval** dp) {
  *base = baseline_of(rows, style);
  *dp = nullptr;
  for (const auto& r : rows)
    if (r.style == style && r.depth_weight > 0 &&
        (!*dp || r.depth_weight > (*dp)->depth_weight ||
         (r.depth_weight == (*dp)->depth_weight && r.id < (*dp)->id)))
      *dp = &r;
  return *base && *dp;
}

// One result's f_W (a multi-style model's row) on x.
Stylized stylize_row(const TrialEval& r, EvalResources& res, const torch::Tensor& x, const torch::Device& device) {
  models::TransformNet net = load_evaluated_net(r);
  net->to(device);
  net->eval();
  return stylize_with_depth(*net, *res.nets.depth.net, x);
}

// Per multi-style trial: its styles side by side on the same val images.
void draw_style_grids(const std::vector<TrialEval>& rows, EvalResources& res, const torch::Tensor& x,
                      const torch::Device& device, const fs::path& out, EvalRunResult& result) {
  std::vector<std::string> trials;
  for (const auto& r : rows)
    if (r.style_row >= 0 && std::find(trials.begin(), trials.end(), r.id) == trials.end()) trials.push_back(r.id);
  for (const auto& id : trials) {
    std::vector<const TrialEval*> styles;
    for (const auto& r : rows)
      if (r.id == id) styles.push_back(&r);
    std::sort(styles.begin(), styles.end(), [](const TrialEval* a, const TrialEval* b) { return a->style_row < b->style_row; });
    std::vector<torch::Tensor> outputs;
    std::vector<std::string> names;
    for (const TrialEval* r : styles) {
      outputs.push_back(stylize_row(*r, res, x, device).y);
      names.push_back(r->style);
    }
    const std::string title = id + ": one f_W, " + std::to_string(styles.size()) + " styles, " +
                              std::to_string(x.size(0)) + " val images";
    const fs::path file = out / ("grid-styles-" + id + ".png");
    data::save_image(render_styles_grid(x.to(torch::kCPU), outputs, names, title), file);
    result.files.push_back(file);
  }
}

void draw_grids(const std::vector<TrialEval>& rows, EvalResources& res, const EvalRunOptions& o, const fs::path& out,
                EvalRunResult& result) {
  std::vector<std::string> styles;
  for (const auto& r : rows)
    if (std::find(styles.begin(), styles.end(), r.style) == styles.end()) styles.push_back(r.style);
  const int64_t n = std::min<int64_t>(o.grid_images, res.val->size());
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < n; ++i) indices.push_back(i);
  const torch::Tensor x = res.val->read_batch(indices).to(o.device);
  for (const auto& style : styles) {
    const TrialEval *base = nullptr, *dp = nullptr;
    if (!grid_pair(rows, style, &base, &dp)) {
      result.notes.push_back("no grid for style '" + style +
                             "': it needs a λ3 = 0 trial and a λ3 > 0 trial of that style");
      continue;
    }
    auto run = [&](const TrialEval& r) { return stylize_row(r, res, x, o.device); };
    GridLabels labels;
    // Trial ids carry lambda3 already; the title must fit the 6 tiles of one row.
    labels.title = style + ": " + base->id + " vs " + dp->id + ", " + std::to_string(n) + " val images";
    labels.baseline = "lambda3=0";  // short: a tile is 128 px wide; the title names the baseline
    labels.preserving = "lambda3=" + format_number(dp->depth_weight);
    const fs::path file = out / ("grid-" + style + ".png");
    data::save_image(render_grid(run(*base), run(*dp), labels), file);
    result.files.push_back(file);
  }
  draw_style_grids(rows, res, x, o.device, out, result);
}

// Loss curves: each finished trial's curves.png and, for a sweep, one overlay beside the
// ablation table. Not fatal: a missing matplotlib becomes a note.
void draw_curves(const fs::path& target, const fs::path& out, EvalRunResult& result) {
  std::vector<fs::path> trials;
  if (fs::is_directory(target)) {
    trials = trial_folder::finished_trials(target, nullptr);
  } else if (fs::exists(trial_folder::TrialFolder(target.parent_path()).metrics_file())) {
    trials.push_back(target.parent_path());
  }
  std::vector<fs::path> with_metrics;
  for (const auto& t : trials) {
    if (!fs::exists(trial_folder::TrialFolder(t).metrics_file())) continue;
    with_metrics.push_back(t);
    if (const auto why = write_trial_curves(t)) {
      result.notes.push_back("no loss curves for " + t.filename().string() + ": " + *why);
      return;  // the same reason would repeat for every trial
    }
    result.files.push_back(trial_folder::TrialFolder(t).curves_file());
  }
  if (with_metrics.size() > 1) {
    if (const auto why = write_sweep_curves(out / "curves.png", with_metrics)) {
      result.notes.push_back("no loss-curve overlay: " + *why);
    } else {
      result.files.push_back(out / "curves.png");
    }
  }
}

}  // namespace

EvalRunResult run_eval(const EvalRunOptions& o) {
  DPST_CHECK(fs::exists(o.target), InputError, o.target.string() << ": no such sweep folder or model file");
  EvalRunResult result;
  EvalResources res;
  TrialEvalOptions to;
  to.images = o.images;
  to.data = o.data;
  to.device = o.device;
  TableProvenance how;
  how.command = o.command;
  fs::path out = o.out;

  if (fs::is_directory(o.target)) {
    std::vector<std::string> unfinished;
    const auto trials = trial_folder::finished_trials(o.target, &unfinished);
    for (const auto& name : unfinished) result.notes.push_back("skipped trial " + name + ": not finished (no FINISHED)");
    DPST_CHECK(!trials.empty(), InputError,
               o.target.string() << ": no finished trials (no <trial>/FINISHED); is this a sweep folder?");
    for (const auto& dir : trials) {
      try {
        for (auto& row : evaluate_trial(dir, to, &res)) result.rows.push_back(std::move(row));
      } catch (const Error& e) {
        // Which trial failed matters more than where in the code.
        throw Error("trial " + dir.filename().string() + ": " + e.what(), e.exit_code(), e.where());
      }
    }
    // The sweep's base config names the whole sweep; without it, the first trial's.
    const fs::path base = o.target / "sweep.yaml";
    how.config_hash = fs::exists(base) ? load_trial_config(base).hash() + " (sweep.yaml)"
                                       : result.rows.front().config_hash + " (" + result.rows.front().id + ")";
    if (out.empty()) out = o.target;
  } else {
    fs::path config_file = o.config;
    if (config_file.empty()) config_file = trial_folder::TrialFolder(o.target.parent_path()).config_file();
    DPST_CHECK(fs::exists(config_file), ConfigError,
               o.target.string() << ": no config.yaml beside the model; pass --config with the trial's config");
    const config::Config config = load_trial_config(config_file);
    result.rows = evaluate_model(o.target, config, to, &res);
    how.config_hash = result.rows.front().config_hash;
    if (out.empty()) out = fs::absolute(o.target).parent_path();
  }
  const TrialEval& first = result.rows.front();
  how.loss_nets = first.loss_nets;
  how.weights = first.weights;
  how.dataset = first.dataset.string() + " (split " + first.split + ")";
  how.images = first.metrics.images;
  how.pairs = first.pairs;
  create_folder(out);
  result.rows = sorted_rows(result.rows);
  for (const auto& f : write_tables(out, how, result.rows)) result.files.push_back(f);
  if (o.grid_images > 0) draw_grids(result.rows, res, o, out, result);
  draw_curves(o.target, out, result);
  return result;
}

}  // namespace dpst::eval
