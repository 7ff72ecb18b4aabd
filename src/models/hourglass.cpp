#include "models/hourglass.h"

#include <algorithm>
#include <cstdint>
#include <memory>

#include "common/errors.h"
#include "config/net_facts.h"
#include "models/macs.h"

namespace dpst::models {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

ConvBnImpl::ConvBnImpl(int64_t in, int64_t out, int64_t kernel, bool affine) {
  conv_ = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, kernel).padding(kernel / 2)));
  bn_ = register_module("bn", nn::BatchNorm2d(nn::BatchNorm2dOptions(out).affine(affine)));
}

std::pair<torch::Tensor, torch::Tensor> ConvBnImpl::folded() const {
  // Eval-mode BatchNorm is a per-channel affine map y = (z - mean) * g + beta with
  // g = gamma / sqrt(var + eps): it folds into the conv as W * g and (b - mean) * g + beta.
  const auto& opts = bn_->options;
  torch::Tensor g = torch::rsqrt(bn_->running_var + opts.eps());
  torch::Tensor bias = conv_->bias - bn_->running_mean;
  if (opts.affine()) {
    g = g * bn_->weight;
    bias = bias * g + bn_->bias;
  } else {
    bias = bias * g;
  }
  return {conv_->weight * g.view({-1, 1, 1, 1}), bias};
}

torch::Tensor ConvBnImpl::forward(const torch::Tensor& x) {
  const auto [w, b] = folded();
  return torch::relu(counted_conv2d(x, w, b, (*conv_->options.kernel_size())[0] / 2));
}

InceptionImpl::InceptionImpl(int64_t in, int64_t a, std::vector<InceptionBranch> branches) {
  b0_ = register_module("b0", ConvBn(in, a, 1, false));
  for (size_t i = 0; i < branches.size(); ++i) {
    const auto [k, r, o] = branches[i];
    const std::string name = "b" + std::to_string(i + 1);
    ConvBn reduce = register_module(name + "_reduce", ConvBn(in, r, 1, false));
    ConvBn conv = register_module(name, ConvBn(r, o, k, false));
    branches_.emplace_back(reduce, conv);
  }
}

torch::Tensor InceptionImpl::forward(const torch::Tensor& x) {
  // b0 and every branch's 1x1 reduce read the same input: one 1x1 conv with their
  // (BN-folded) weights stacked reads x once, and backward returns one gradient for x
  // instead of a sum of four.
  std::vector<torch::Tensor> weights, biases;
  std::vector<int64_t> sizes;
  auto add = [&](const ConvBn& m) {
    auto [w, b] = m->folded();
    sizes.push_back(w.size(0));
    weights.push_back(std::move(w));
    biases.push_back(std::move(b));
  };
  add(b0_);
  for (auto& [reduce, conv] : branches_) add(reduce);
  const torch::Tensor reduced = torch::relu(counted_conv2d(x, torch::cat(weights, 0), torch::cat(biases, 0), 0));
  std::vector<torch::Tensor> parts = reduced.split_with_sizes(sizes, 1);
  std::vector<torch::Tensor> outs{parts[0]};
  for (size_t i = 0; i < branches_.size(); ++i) outs.push_back(branches_[i].second->forward(parts[i + 1]));
  return torch::cat(outs, 1);
}

namespace {

// Shorthands for the table in DESIGN.md §5.
Inception inc(int64_t in, int64_t a, std::vector<InceptionBranch> b) { return Inception(in, a, std::move(b)); }
Inception inc_357(int64_t in, int64_t a, int64_t r, int64_t o) { return inc(in, a, {{3, r, o}, {5, r, o}, {7, r, o}}); }
Inception std256() { return inc_357(256, 64, 32, 64); }

nn::Sequential seq(std::vector<Inception> modules) {
  nn::Sequential s;
  for (auto& m : modules) s->push_back(m);
  return s;
}

torch::Tensor up2(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{2.0, 2.0}).mode(torch::kNearest));
}

bool wants(const TapNames& wanted, const std::string& name) {
  return std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

bool all_in(const TapNames& wanted, const Taps& taps) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& n) { return taps.count(n) > 0; });
}

}  // namespace

std::string to_string(DepthVariant v) { return v == DepthVariant::MegaDepth ? "megadepth" : "hourglass3"; }

DepthVariant parse_depth_variant(const std::string& name, const std::string& what) {
  if (name == "hourglass3") return DepthVariant::Hourglass3;
  if (name == "megadepth") return DepthVariant::MegaDepth;
  DPST_THROW(ConfigError, what << ": unknown depth network variant '" << name << "' (known: hourglass3, megadepth)");
}

HourglassImpl::HourglassImpl(DepthVariant variant) : variant_(variant) {
  stem_ = register_module("stem", ConvBn(3, 128, 7, /*affine=*/true));
  // Registration order stem, L4, L3, L2, L1, head (the order of the state dict).
  Level& l4 = levels_[4];
  l4.max_pool = true;
  l4.pre = seq({inc_357(128, 32, 32, 32), inc_357(128, 32, 32, 32)});
  l4.post = seq({inc_357(128, 32, 64, 32), inc(128, 16, {{3, 32, 16}, {7, 32, 16}, {11, 32, 16}})});
  l4.skip = seq({inc(128, 16, {{3, 64, 16}, {7, 64, 16}, {11, 64, 16}})});
  Level& l3 = levels_[3];
  l3.max_pool = true;
  l3.pre = seq({inc_357(128, 32, 32, 32), inc_357(128, 64, 32, 64)});
  l3.post = seq({std256(), inc_357(256, 32, 32, 32)});
  l3.skip = seq({inc_357(128, 32, 32, 32), inc(128, 32, {{3, 64, 32}, {7, 64, 32}, {11, 64, 32}})});
  Level& l2 = levels_[2];
  l2.max_pool = false;
  l2.pre = seq({std256(), std256()});
  l2.post = seq({std256(), inc(256, 64, {{3, 64, 64}, {7, 64, 64}, {11, 64, 64}})});
  l2.skip = seq({std256(), inc(256, 64, {{3, 64, 64}, {7, 64, 64}, {11, 64, 64}})});
  Level& l1 = levels_[1];
  l1.max_pool = false;
  l1.pre = seq({std256(), std256(), std256()});
  l1.post = seq({});
  l1.skip = seq({std256(), std256()});
  for (int k = 4; k >= 1; --k) {
    auto level = std::make_shared<nn::Module>();
    level->register_module("pre", levels_[k].pre);
    level->register_module("post", levels_[k].post);
    level->register_module("skip", levels_[k].skip);
    register_module("L" + std::to_string(k), level);
  }
  head_ = register_module("head", nn::Conv2d(nn::Conv2dOptions(64, 1, 3).padding(1)));
  Module::train(false);
}

void HourglassImpl::train(bool /*on*/) { Module::train(false); }

const TapNames& HourglassImpl::tap_names() { return config::hourglass_tap_names(); }

torch::Tensor HourglassImpl::level(int k, const torch::Tensor& x, const TapNames& wanted, Taps& taps) {
  Level& lv = levels_[k];
  torch::Tensor p = lv.max_pool ? F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2))
                                : F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2));
  p = lv.pre->forward(p);
  if (k > 1) {
    p = level(k - 1, p, wanted, taps);
    if (!p.defined()) return {};
  }
  if (!lv.post->is_empty()) p = lv.post->forward(p);
  torch::Tensor out = lv.skip->forward(x) + up2(p);
  const std::string name = "L" + std::to_string(k);
  if (wants(wanted, name)) taps[name] = out;
  if (all_in(wanted, taps)) return {};
  return out;
}

Taps HourglassImpl::forward_taps(const torch::Tensor& x, const TapNames& wanted) {
  check_tap_names(wanted, tap_names(), "hourglass");
  constexpr int64_t m = config::kDepthNetSizeMultiple;
  DPST_CHECK(x.dim() == 4 && x.size(1) == 3 && x.size(2) % m == 0 && x.size(3) % m == 0, InputError,
             "hourglass expects (B, 3, H, W) RGB in [0, 1] with H and W multiples of " << m << ", got shape "
                 << x.sizes());
  Taps taps;
  if (wanted.empty()) return taps;
  torch::Tensor s = stem_->forward(x);
  if (wants(wanted, "stem")) taps["stem"] = s;
  if (all_in(wanted, taps)) return taps;
  torch::Tensor l4 = level(4, s, wanted, taps);
  if (!l4.defined()) return taps;
  torch::Tensor head = counted_conv(head_, l4);
  taps["output"] = variant_ == DepthVariant::MegaDepth ? torch::exp(head) : head;
  return taps;
}

torch::Tensor HourglassImpl::forward(const torch::Tensor& x) { return forward_taps(x, {"output"}).at("output"); }

}  // namespace dpst::models
