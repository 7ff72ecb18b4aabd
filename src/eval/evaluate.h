// Evaluating one trained f_W on the val split (DESIGN.md §10): the loss terms of its
// trial, depth preservation between δ(x) and δ(ŷ), grayscale SSIM of ŷ vs x, throughput.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "config/config.h"
#include "data/dataset.h"
#include "losses/trial_loss.h"
#include "models/loss_nets.h"
#include "models/transform_net.h"

namespace dpst::eval {

// Ties in the ordinal depth metric: two depths are "equal" when they differ by at most
// this fraction of the map's depth range (maps are min-max normalised first).
inline constexpr double kOrdinalThreshold = 0.02;
// Seed of the point pairs; image k of the val split uses seed kPairSeed + k, so the
// pairs do not depend on the batch size or on which trial is evaluated.
inline constexpr uint64_t kPairSeed = 0x5EED;

struct EvalOptions {
  int64_t images = 100;  // the first N val images (fewer if the split is smaller)
  int64_t pairs = 5000;  // point pairs per image (eval.pairs)
  double ordinal_threshold = kOrdinalThreshold;
  int64_t batch_size = 4;
  torch::Device device = torch::kCPU;
};

// Means over the evaluated images. Everything is computed on ŷ clamped to [0, 1], the
// image a user gets. The loss terms are the raw (unweighted) terms of DESIGN.md §6 with
// the trial's layers; the depth term is reported for λ3 = 0 too, so baselines compare.
struct EvalMetrics {
  int64_t images = 0;
  double content = 0, style = 0, depth = 0, tv = 0;
  double total = 0;               // Σ λ·term with the trial's λ's
  // The loss term called `name` (losses::kTermNames); throws InternalError for another.
  double& term(std::string_view name);
  double term(std::string_view name) const { return const_cast<EvalMetrics*>(this)->term(name); }
  double ordinal_agreement = 0;   // 1 − WHDR of δ(x) vs δ(ŷ)
  double depth_pearson = 0;       // Pearson of min-max-normalised δ(x), δ(ŷ)
  double depth_ssim = 0;          // SSIM of the same maps
  double ssim_gray = 0;           // grayscale SSIM of ŷ vs x
  double images_per_second = 0;   // f_W forward only; varies run to run, so never written to files
};

// What a trained f_W produced for some images: ŷ (clamped) and both depth maps.
struct Stylized {
  torch::Tensor x, y, depth_x, depth_y;  // (B,3,H,W), (B,3,H,W), (B,1,H,W), (B,1,H,W) on CPU
};
// f_W and δ on x (B, 3, H, W) in [0, 1], without grad.
Stylized stylize_with_depth(models::TransformNetImpl& net, models::HourglassImpl& depth, const torch::Tensor& x);

// Evaluates net on the first options.images images of val. nets.depth must be loaded
// (the depth metrics need δ even for a λ3 = 0 baseline): InternalError otherwise.
EvalMetrics evaluate(models::TransformNetImpl& net, const data::Dataset& val, models::LossNets& nets,
                     const losses::TrialLoss& loss, const EvalOptions& options);

// The loss stack of a trial's config for one of its style images (style Grams from it at
// loss.style_size), for evaluation.
losses::TrialLoss trial_loss_for_eval(const config::Config& config, const std::filesystem::path& style_image,
                                      models::Vgg16& vgg, torch::Device device);


// "pretrained" or "RANDOM INIT (vgg16, hourglass)": which loss networks are random.
std::string loss_nets_label(const models::LossNets& nets);

// One finished trial folder (config.yaml + model.h5), evaluated and written to
// <trial_dir>/eval.json. images <= 0: the config's eval.images. data: empty = the
// config's data.path. Called by the sweep after a trial finishes, and by dpst-eval.
struct TrialEvalOptions {
  int64_t images = 0;
  std::filesystem::path data;
  torch::Device device = torch::kCPU;
  bool write_json = true;
};
struct TrialEval {
  std::filesystem::path dir;
  std::filesystem::path model;  // the weight file evaluated
  std::string id;             // the folder name
  std::string style;          // stem of the style image (a multi-style trial: one row per style)
  int64_t style_row = -1;     // a multi-style model's row of this style; -1 for a one-style model
  double depth_weight = 0;    // λ3
  std::string depth_layers;   // "output", "L1+output", ...
  std::string config_hash;
  std::string loss_nets;      // loss_nets_label
  std::string weights;        // "vgg16 <file>; hourglass <file>" or the random-init sources
  std::filesystem::path dataset;
  std::string split;
  int64_t pairs = 0;
  EvalMetrics metrics;
};

// Loss networks and the val split, loaded once and shared by the trials of a sweep:
// reloaded only when a trial's config names other weights or data.
struct EvalResources {
  std::string key;  // weights, random-init flag, data path and split they were loaded for
  models::LossNets nets;
  std::shared_ptr<data::Dataset> val;
};

// Any exported f_W with the config of its trial (loss settings, data, eval.*). id: the
// model's folder name when the file is model.h5, else its stem. One result per style: a
// multi-style model is evaluated style by style (its rows for the trial's style images,
// model.extend_from's styles included only when the config names their images). Writes
// nothing.
std::vector<TrialEval> evaluate_model(const std::filesystem::path& model, const config::Config& config,
                                      const TrialEvalOptions& options, EvalResources* shared = nullptr);
// The same for a trial folder; writes its eval.json (one object, or for several styles a
// list of them).
std::vector<TrialEval> evaluate_trial(const std::filesystem::path& trial_dir, const TrialEvalOptions& options,
                                      EvalResources* shared = nullptr);
// A trial's config.yaml (check_files off: paths are checked when used).
config::Config load_trial_config(const std::filesystem::path& config_yaml);
inline std::vector<TrialEval> evaluate_trial(const std::filesystem::path& trial_dir, int64_t images) {
  TrialEvalOptions options;
  options.images = images;
  return evaluate_trial(trial_dir, options);
}

// The eval.json text of a result: fixed key order, values rounded to 6 significant
// digits, no timestamps or throughput, so reruns give the same bytes.
std::string eval_json(const TrialEval& result);
// A trial's eval.json: eval_json of its one result, or a list with one object per style.
std::string eval_json(const std::vector<TrialEval>& results);

// The one-style f_W of one result: the model itself, or a multi-style model's row.
models::TransformNet load_evaluated_net(const TrialEval& result);

// A finite value as "%.6g", NaN/Inf as "nan"/"inf": the number format of eval.json and the
// ablation tables (the sweep summary keeps 9 significant digits, its markdown 4).
std::string format_number(double value);

}  // namespace dpst::eval
