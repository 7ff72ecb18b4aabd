#include "losses/terms.h"

#include <cstdint>

#include "common/errors.h"

namespace dpst::losses {
namespace {

const torch::Tensor& tap(const Taps& taps, const std::string& name, const char* which, const std::string& what) {
  auto it = taps.find(name);
  DPST_CHECK(it != taps.end(), InternalError,
             what << " loss: " << which << " features have no tap '" << name << "' (the forward was not asked for it)");
  return it->second;
}

// Loss arithmetic runs in fp32 (or wider) whatever the features' dtype: under
// train.precision: bf16 the features come out of autocast as bfloat16. No-op otherwise.
torch::Tensor at_least_fp32(const torch::Tensor& t) {
  const auto type = t.scalar_type();
  return type == torch::kBFloat16 || type == torch::kHalf ? t.to(torch::kFloat) : t;
}

}  // namespace

torch::Tensor gram(const torch::Tensor& features) {
  DPST_CHECK(features.dim() == 4, InternalError, "gram: expected (B, C, H, W), got " << features.sizes());
  const int64_t b = features.size(0), c = features.size(1), hw = features.size(2) * features.size(3);
  const torch::Tensor f = at_least_fp32(features).reshape({b, c, hw});
  return torch::bmm(f, f.transpose(1, 2)) / static_cast<double>(c * hw);
}

torch::Tensor feature_mse(const Taps& out, const Taps& target, const TapNames& layers, const std::string& what) {
  DPST_CHECK(!layers.empty(), InternalError, what << " loss: no layers");
  torch::Tensor total;
  for (const auto& name : layers) {
    const torch::Tensor& o = tap(out, name, "output", what);
    const torch::Tensor& t = tap(target, name, "target", what);
    DPST_CHECK(o.sizes() == t.sizes(), InternalError,
               what << " loss at '" << name << "': output " << o.sizes() << " vs target " << t.sizes());
    torch::Tensor term = (at_least_fp32(o) - at_least_fp32(t)).pow(2).mean();
    total = total.defined() ? total + term : term;
  }
  return total;
}

namespace {

// Σ over layers of reduce((G(out) − G_style)²); reduce is a mean over everything, or per image.
template <typename Reduce>
torch::Tensor sum_over_style_layers(const Taps& out, const std::map<std::string, torch::Tensor>& style_grams,
                                    const TapNames& layers, const Reduce& reduce) {
  DPST_CHECK(!layers.empty(), InternalError, "style loss: no layers");
  torch::Tensor total;
  for (const auto& name : layers) {
    const torch::Tensor g = gram(tap(out, name, "output", "style"));
    auto it = style_grams.find(name);
    DPST_CHECK(it != style_grams.end(), InternalError, "style loss: no style Gram for '" << name << "'");
    torch::Tensor term = reduce((g - it->second).pow(2));  // broadcasts a (1, C, C) target over B
    total = total.defined() ? total + term : term;
  }
  return total;
}

}  // namespace

torch::Tensor style_loss(const Taps& out, const std::map<std::string, torch::Tensor>& style_grams,
                         const TapNames& layers) {
  return sum_over_style_layers(out, style_grams, layers, [](const torch::Tensor& d) { return d.mean(); });
}

torch::Tensor style_loss_per_image(const Taps& out, const std::map<std::string, torch::Tensor>& style_grams,
                                   const TapNames& layers) {
  return sum_over_style_layers(out, style_grams, layers, [](const torch::Tensor& d) { return d.mean({1, 2}); });
}

torch::Tensor tv_loss(const torch::Tensor& y) {
  DPST_CHECK(y.dim() == 4, InternalError, "tv loss: expected (B, C, H, W), got " << y.sizes());
  const int64_t h = y.size(2), w = y.size(3);
  const torch::Tensor y32 = at_least_fp32(y);
  const torch::Tensor dx = y32.narrow(3, 1, w - 1) - y32.narrow(3, 0, w - 1);
  const torch::Tensor dy = y32.narrow(2, 1, h - 1) - y32.narrow(2, 0, h - 1);
  return dx.pow(2).mean() + dy.pow(2).mean();
}

}  // namespace dpst::losses
