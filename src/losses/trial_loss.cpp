#include "losses/trial_loss.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <vector>

#include "common/errors.h"

namespace dpst::losses {

TapNames union_of(const std::vector<TapNames>& lists) {
  TapNames out;
  for (const auto& list : lists)
    for (const auto& name : list)
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

Targets compute_targets(models::Vgg16& vgg, models::Hourglass* depth, const torch::Tensor& x,
                        const TapNames& vgg_taps, const TapNames& depth_taps) {
  torch::NoGradGuard no_grad;
  Targets t;
  t.content = vgg->forward_taps(x, vgg_taps);
  if (depth != nullptr && !depth_taps.empty()) {
    DPST_CHECK(*depth, InternalError, "compute_targets: depth taps asked for but the depth network is empty");
    t.depth = (*depth)->forward_taps(x, depth_taps);
  }
  return t;
}

std::map<std::string, torch::Tensor> style_grams(models::Vgg16& vgg, const torch::Tensor& style_image,
                                                 const TapNames& layers) {
  DPST_CHECK(style_image.dim() == 4 && style_image.size(0) == 1, InputError,
             "style image must be (1, 3, H, W), got " << style_image.sizes());
  torch::NoGradGuard no_grad;
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, f] : vgg->forward_taps(style_image, layers)) out.emplace(name, gram(f));
  return out;
}

std::map<std::string, torch::Tensor> style_grams(models::Vgg16& vgg, const std::vector<torch::Tensor>& style_images,
                                                 const TapNames& layers) {
  DPST_CHECK(!style_images.empty(), InternalError, "style_grams: no style images");
  std::map<std::string, std::vector<torch::Tensor>> rows;
  for (const auto& image : style_images)
    for (auto& [name, g] : style_grams(vgg, image, layers)) rows[name].push_back(g);
  std::map<std::string, torch::Tensor> out;
  for (auto& [name, list] : rows) out.emplace(name, list.size() == 1 ? list.front() : torch::cat(list, 0));
  return out;
}

const torch::Tensor& LossTerms::operator[](std::string_view name) const {
  const torch::Tensor* slots[] = {&content, &style, &depth, &tv, &total};  // kTermNames' order
  static_assert(sizeof slots / sizeof slots[0] == kNumTerms, "one slot per term name");
  const int i = term_index(name);
  DPST_CHECK(i >= 0, InternalError, "'" << name << "' is not a loss term");
  return *slots[i];
}

std::map<std::string, double> LossTerms::values() const {
  std::map<std::string, double> out;
  for (const char* name : kTermNames) {
    const torch::Tensor& t = (*this)[name];
    out[name] = t.defined() ? t.item<double>() : std::nan("");
  }
  return out;
}

TrialLoss::TrialLoss(LossWeights weights, LossLayers layers, std::map<std::string, torch::Tensor> grams)
    : weights_(weights), layers_(std::move(layers)), style_grams_(std::move(grams)) {
  models::check_tap_names(layers_.content, models::Vgg16Impl::tap_names(), "VGG16");
  models::check_tap_names(layers_.style, models::Vgg16Impl::tap_names(), "VGG16");
  models::check_tap_names(layers_.depth, models::HourglassImpl::tap_names(), "hourglass");
  if (weights_.style > 0)
    for (const auto& name : layers_.style)
      DPST_CHECK(style_grams_.count(name), InternalError, "TrialLoss: no style Gram for layer '" << name << "'");
  if (!style_grams_.empty()) styles_ = style_grams_.begin()->second.size(0);
  for (const auto& [name, g] : style_grams_)
    DPST_CHECK(g.dim() == 3 && g.size(0) == styles_, InternalError,
               "TrialLoss: the style Grams of '" << name << "' are " << g.sizes() << ", expected (" << styles_ << ", C, C)");
}

TrialLoss TrialLoss::from_config(const config::LossConfig& loss, models::Vgg16& vgg,
                                 const std::vector<torch::Tensor>& style_images) {
  const LossWeights w{loss.content_weight, loss.style_weight, loss.depth_weight, loss.tv_weight};
  const LossLayers l{loss.content_layers, loss.style_layers, loss.depth_layers};
  return TrialLoss(w, l, style_grams(vgg, style_images, l.style));
}

TapNames TrialLoss::vgg_taps() const {
  std::vector<TapNames> lists;
  if (weights_.content > 0) lists.push_back(layers_.content);
  if (weights_.style > 0) lists.push_back(layers_.style);
  return union_of(lists);
}

TapNames TrialLoss::depth_taps() const { return weights_.depth > 0 ? layers_.depth : TapNames{}; }

LossTerms TrialLoss::operator()(const torch::Tensor& y_hat, const Taps& vgg_out, const Taps& depth_out,
                                const Targets& targets, const torch::Tensor& style_of) const {
  // Per image when the caller says which style each image trains (a multi-style f_W, even
  // one that trains a single added style); a plain one-style trial keeps the batch mean.
  const bool per_style = style_of.defined();
  DPST_CHECK(styles_ == 1 || per_style, InternalError,
             "TrialLoss: a trial of " << styles_ << " styles needs the style of each image");
  DPST_CHECK(!per_style || (style_of.dim() == 1 && style_of.size(0) == y_hat.size(0)), InternalError,
             "TrialLoss: style_of must give one style per image (" << y_hat.size(0) << "), got " << style_of.sizes());
  auto has_all = [](const Taps& taps, const TapNames& names) {
    return !names.empty() &&
           std::all_of(names.begin(), names.end(), [&](const std::string& n) { return taps.count(n) > 0; });
  };
  LossTerms t;
  // fp32 even when y_hat is bf16 (autocast): the weighted sum is formed at full precision.
  torch::Tensor total = torch::zeros({}, y_hat.options().dtype(y_hat.scalar_type() == torch::kDouble ? torch::kDouble
                                                                                                   : torch::kFloat));
  auto add = [&](torch::Tensor& slot, double weight, bool available, const char* name,
                 const std::function<torch::Tensor()>& compute) {
    DPST_CHECK(available || weight == 0, InternalError,
               "the " << name << " term has weight " << weight << " but its features were not computed");
    if (!available) return;
    slot = compute();
    if (weight > 0) total = total + weight * slot;
  };
  add(t.content, weights_.content, has_all(vgg_out, layers_.content) && has_all(targets.content, layers_.content),
      "content", [&] { return content_loss(vgg_out, targets.content, layers_.content); });
  add(t.style, weights_.style, has_all(vgg_out, layers_.style), "style", [&] {
    if (!per_style) return style_loss(vgg_out, style_grams_, layers_.style);
    // Each image against its own style's Grams: the (B, C, C) rows of the stacked targets.
    std::map<std::string, torch::Tensor> own;
    for (const auto& name : layers_.style) own.emplace(name, style_grams_.at(name).index_select(0, style_of));
    const torch::Tensor per_image = style_loss_per_image(vgg_out, own, layers_.style);
    t.style_per_image = per_image.detach();
    return per_image.mean();
  });
  add(t.depth, weights_.depth, has_all(depth_out, layers_.depth) && has_all(targets.depth, layers_.depth), "depth",
      [&] { return depth_loss(depth_out, targets.depth, layers_.depth); });
  add(t.tv, weights_.tv, true, "tv", [&] { return tv_loss(y_hat); });
  t.total = total;
  return t;
}

}  // namespace dpst::losses
