#include "eval/evaluate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/errors.h"
#include "common/text.h"
#include "config/net_facts.h"
#include "data/image_tensor.h"
#include "data/image_io.h"
#include "eval/metrics.h"
#include "models/provenance_text.h"
#include "trial_folder/trial_folder.h"

namespace dpst::eval {
namespace fs = std::filesystem;

Stylized stylize_with_depth(models::TransformNetImpl& net, models::HourglassImpl& depth, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  Stylized s;
  s.x = x;
  // Clamped: the image a user gets, and what every metric is computed on.
  const torch::Tensor y = net.forward(x).clamp(0.0, 1.0);
  s.depth_x = depth.forward(x).to(torch::kCPU);
  s.depth_y = depth.forward(y).to(torch::kCPU);
  s.y = y.to(torch::kCPU);
  s.x = x.to(torch::kCPU);
  return s;
}

EvalMetrics evaluate(models::TransformNetImpl& net, const data::Dataset& val, models::LossNets& nets,
                     const losses::TrialLoss& loss, const EvalOptions& options) {
  DPST_CHECK(nets.depth.net, InternalError, "evaluate: the depth network is not loaded");
  DPST_CHECK(val.image_size() % config::kDepthNetSizeMultiple == 0, InputError,
             val.path().string() << ": images are " << val.image_size() << "x" << val.image_size()
                                 << "; the depth network needs a multiple of " << config::kDepthNetSizeMultiple
                                 << " (re-pack with --size)");
  const int64_t n = std::min(options.images, val.size());
  DPST_CHECK(n >= 1, InputError, val.path().string() << ": split '" << val.split() << "' has no images to evaluate");
  DPST_CHECK(options.batch_size >= 1 && options.pairs >= 1, InternalError, "evaluate: bad batch size or pair count");
  torch::NoGradGuard no_grad;
  net.eval();
  const auto& layers = loss.layers();
  // Every term is computed (λ = 0 terms too: a baseline's depth loss is the comparison).
  const models::TapNames vgg_taps = losses::union_of({layers.content, layers.style});
  const models::TapNames depth_taps = losses::union_of({layers.depth, {"output"}});

  EvalMetrics m;
  double forward_seconds = 0;
  for (int64_t begin = 0; begin < n; begin += options.batch_size) {
    std::vector<int64_t> indices;
    for (int64_t i = begin; i < std::min(n, begin + options.batch_size); ++i) indices.push_back(i);
    const torch::Tensor x = val.read_batch(indices).to(options.device);
    const auto t0 = std::chrono::steady_clock::now();
    const torch::Tensor y = net.forward(x).clamp(0.0, 1.0);
    (void)y.sum().item<double>();  // waits for the device, so the time is the forward's
    forward_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const losses::Targets targets = losses::compute_targets(nets.vgg.net, &nets.depth.net, x, vgg_taps, depth_taps);
    const models::Taps vgg_out = nets.vgg.net->forward_taps(y, vgg_taps);
    const models::Taps depth_out = nets.depth.net->forward_taps(y, depth_taps);
    const auto terms = loss(y, vgg_out, depth_out, targets).values();
    const double b = static_cast<double>(indices.size());
    // Each term is a mean over the batch, so batch-weighted sums give the mean over images.
    for (const char* name : losses::kTermNames) m.term(name) += b * terms.at(name);

    const torch::Tensor dx = targets.depth.at("output").to(torch::kCPU), dy = depth_out.at("output").to(torch::kCPU);
    const torch::Tensor xc = x.to(torch::kCPU), yc = y.to(torch::kCPU);
    for (size_t k = 0; k < indices.size(); ++k) {
      const auto row = static_cast<int64_t>(k);
      const torch::Tensor a = dx[row][0], c = dy[row][0];
      m.ordinal_agreement += ordinal_agreement(a, c, options.pairs, kPairSeed + static_cast<uint64_t>(indices[k]),
                                               options.ordinal_threshold);
      m.depth_pearson += pearson(minmax_normalise(a), minmax_normalise(c));
      m.depth_ssim += depth_ssim(a, c);
      m.ssim_gray += ssim_gray(yc[row], xc[row]);
    }
  }
  const double count = static_cast<double>(n);
  for (const char* name : losses::kTermNames) m.term(name) /= count;
  for (double* v : {&m.ordinal_agreement, &m.depth_pearson, &m.depth_ssim, &m.ssim_gray}) *v /= count;
  m.images = n;
  m.images_per_second = forward_seconds > 0 ? count / forward_seconds : 0;
  return m;
}

double& EvalMetrics::term(std::string_view name) {
  double* slots[] = {&content, &style, &depth, &tv, &total};  // losses::kTermNames' order
  static_assert(sizeof slots / sizeof slots[0] == losses::kNumTerms, "one slot per term name");
  const int i = losses::term_index(name);
  DPST_CHECK(i >= 0, InternalError, "'" << name << "' is not a loss term");
  return *slots[i];
}

losses::TrialLoss trial_loss_for_eval(const config::Config& config, const fs::path& style_image, models::Vgg16& vgg,
                                      torch::Device device) {
  // As the trainer does: shorter side to loss.style_size, RGB in [0, 1].
  const torch::Tensor style = data::load_style_image(style_image, config.loss().style_size);
  return losses::TrialLoss::from_config(config.loss(), vgg, {style.to(device)});
}

models::TransformNet load_evaluated_net(const TrialEval& r) {
  const fs::path file = r.model;
  models::TransformNet net = models::load_transform_net(file);
  if (r.style_row < 0) return net;
  const int64_t n = net->options().styles;
  DPST_CHECK(r.style_row < n, InputError, file.string() << " holds " << n << " styles, not row " << r.style_row);
  return models::blended(*net, torch::one_hot(torch::tensor(r.style_row), n).to(torch::kFloat));
}

std::string loss_nets_label(const models::LossNets& nets) {
  std::vector<std::string> random;
  if (nets.vgg.provenance.random_init) random.push_back("vgg16");
  if (nets.depth.net && nets.depth.provenance.random_init) random.push_back("hourglass");
  return models::loss_nets_label(random, models::NetListStyle::kParenthesised);
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0) return "0";  // no "-0"
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", value);
  return buf;
}

config::Config load_trial_config(const fs::path& config_yaml) {
  DPST_CHECK(fs::exists(config_yaml), InputError, config_yaml.string() << ": no such config file");
  config::LoadOptions lo;
  lo.files = {config_yaml.string()};
  lo.check_files = false;  // paths are checked when used, with clearer messages
  return config::load(lo);
}

std::vector<TrialEval> evaluate_model(const fs::path& model, const config::Config& config,
                                      const TrialEvalOptions& options, EvalResources* shared) {
  DPST_CHECK(fs::is_regular_file(model), InputError,
             model.string() << ": no model.h5 (the trial has not finished, or its model was not exported)");
  TrialEval r;
  const fs::path abs = fs::absolute(model).lexically_normal();
  r.dir = abs.parent_path();
  r.model = abs;
  r.id = abs.filename() == trial_folder::kModelFile ? abs.parent_path().filename().string() : abs.stem().string();
  r.depth_weight = config.loss().depth_weight;
  r.depth_layers = joined(config.loss().depth_layers, "+");
  r.config_hash = config.hash();
  r.dataset = options.data.empty() ? config.data().path : fs::absolute(options.data).lexically_normal();
  r.split = config.data().val_split;
  r.pairs = config.eval().pairs;
  DPST_CHECK(!r.dataset.empty(), InputError, r.id << ": the config sets no data.path; pass --data");

  EvalResources local;
  EvalResources& res = shared ? *shared : local;
  const config::LossNetsConfig& nets = config.loss_nets();
  const std::string key = nets.vgg16_weights.string() + "|" + nets.depth_weights.string() + "|" + nets.depth_net + "|" +
                          (nets.allow_random_init ? "random-ok" : "pretrained-only") + "|" +
                          r.dataset.string() + "|" + r.split + "|" + options.device.str();
  if (res.key != key || !res.val) {
    res.val = std::make_shared<data::Dataset>(data::Dataset::open(r.dataset, r.split));
    res.nets = models::load_loss_nets(nets, /*need_depth=*/true);
    res.nets.vgg.net->to(options.device);
    res.nets.depth.net->to(options.device);
    res.key = key;
  }
  r.loss_nets = loss_nets_label(res.nets);
  r.weights = "vgg16: " + res.nets.vgg.provenance.describe() + "; depth network " + res.nets.depth.provenance.describe();

  std::vector<std::string> names;
  const int64_t rows = models::load_transform_net(model, &names)->options().styles;
  const auto& images = config.loss().style_images;
  DPST_CHECK(!images.empty(), ConfigError, r.id << ": the config sets no loss.style_image");
  EvalOptions eo;
  eo.images = options.images > 0 ? options.images : config.eval().images;
  eo.pairs = r.pairs;
  eo.device = options.device;
  std::vector<TrialEval> out;
  for (const auto& image : images) {
    TrialEval s = r;
    s.style = image.stem().string();
    if (rows > 1) {
      // The model's row of this style (a model.extend_from trial's rows start with its base's).
      const auto it = std::find(names.begin(), names.end(), s.style);
      DPST_CHECK(it != names.end(), InputError,
                 model.string() << " holds the styles " << joined(names, ", ") << " but not '" << s.style
                                << "' (loss.style_image of its config)");
      s.style_row = it - names.begin();
    }
    models::TransformNet net = load_evaluated_net(s);
    net->to(options.device);
    const losses::TrialLoss loss = trial_loss_for_eval(config, image, res.nets.vgg.net, options.device);
    s.metrics = evaluate(*net, *res.val, res.nets, loss, eo);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<TrialEval> evaluate_trial(const fs::path& trial_dir, const TrialEvalOptions& options,
                                      EvalResources* shared) {
  DPST_CHECK(fs::is_directory(trial_dir), InputError, trial_dir.string() << ": no such trial folder");
  const trial_folder::TrialFolder folder(trial_dir);
  DPST_CHECK(folder.has_config(), InputError, trial_dir.string() << ": no config.yaml (not a trial folder)");
  std::vector<TrialEval> r = evaluate_model(folder.model_file(), load_trial_config(folder.config_file()), options, shared);
  if (options.write_json) write_file_atomically(folder.eval_file(), eval_json(r));
  return r;
}

std::string eval_json(const std::vector<TrialEval>& results) {
  DPST_CHECK(!results.empty(), InternalError, "eval_json: no results");
  if (results.size() == 1) return eval_json(results.front());
  auto list = nlohmann::ordered_json::array();
  for (const auto& r : results) list.push_back(nlohmann::ordered_json::parse(eval_json(r)));
  return list.dump(2) + "\n";
}

std::string eval_json(const TrialEval& r) {
  // Rounded through the same 6-digit text as the tables, so the JSON never shows
  // run-to-run noise in the last bits; NaN becomes null.
  auto num = [](double v) -> nlohmann::ordered_json {
    if (!std::isfinite(v)) return nullptr;
    return std::stod(format_number(v));
  };
  nlohmann::ordered_json j;
  j["trial"] = r.id;
  j["style"] = r.style;
  if (r.style_row >= 0) j["style_row"] = r.style_row;
  j["depth_weight"] = num(r.depth_weight);
  j["depth_layers"] = r.depth_layers;
  j["config_hash"] = r.config_hash;
  j["loss_nets"] = r.loss_nets;
  j["weights"] = r.weights;
  j["dataset"] = r.dataset.string();
  j["split"] = r.split;
  j["images"] = r.metrics.images;
  j["pairs_per_image"] = r.pairs;
  j["ordinal_threshold"] = kOrdinalThreshold;
  const EvalMetrics& m = r.metrics;
  j["metrics"] = {{"ordinal_agreement", num(m.ordinal_agreement)},
                  {"depth_pearson", num(m.depth_pearson)},
                  {"depth_ssim", num(m.depth_ssim)},
                  {"ssim_gray", num(m.ssim_gray)}};
  for (const char* name : losses::kTermNames) j["metrics"][name] = num(m.term(name));
  return j.dump(2) + "\n";
}

}  // namespace dpst::eval
