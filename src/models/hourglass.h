// The hourglass depth network δ of Chen et al. 2016 ("hourglass3" of
// princeton-vl/relative_depth), built from the table in DESIGN.md §5. A frozen net:
// it is always in eval mode (BatchNorm uses its running statistics; train() is a no-op).
//
// Layout and parameter names (dataprep/hourglass_torch.py builds the same names):
//   stem.conv (7x7, 3->128, bias) + stem.bn (BatchNorm, affine, as the original's
//   SpatialBatchNormalization defaults) + ReLU;
//   L4, L3, L2, L1: one module per level, children `pre` (inception modules between the
//   pool and the inner level), `post` (between the inner level and the x2 upsample) and
//   `skip` (the same-resolution branch); L4/L3 pool with MaxPool2, L2/L1 with AvgPool2;
//   a level's output is skip(x) + Up2(post(inner(pre(pool(x)))));
//   head: conv 3x3 64->1 (bias) -> the depth map at input resolution.
// Inception module inc(in, {a}, {k,r,o}...): `b0` = 1x1 in->a; for branch i >= 1,
// `b<i>_reduce` = 1x1 in->r then `b<i>` = kxk r->o (padding k/2); each is a ConvBn
// (`conv` with bias, `bn` = BatchNorm affine=false) followed by ReLU; branches are
// concatenated in order.
// Speed (the depth network is most of a training step's work): forward folds each
// BatchNorm into its conv and runs a module's 1x1 convs on the same input as one conv;
// the parameters and their names stay those of the layout above.
//
// Input: RGB in [0, 1], no mean subtraction; H and W multiples of 16.
// Taps: stem, L1, L2, L3, L4 (each level's output), output (the depth map).
//
// Variants (loss_nets.depth_net; weight files record theirs as depth_variant). The
// published weights of this network come as Chen et al.'s Torch7 hourglass3 (relative
// depth) and as MegaDepth's PyTorch translation of the same Lua tree, retrained to predict
// log depth. Both have exactly these layers, pools (max at L4/L3, avg at L2/L1) and taps;
// only the head's meaning differs, so `output` is made a depth map in both:
//   hourglass3  output = head(L4)        (relative depth, larger = farther)
//   megadepth   output = exp(head(L4))   (MegaDepth's head is log depth)
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "models/taps.h"

namespace dpst::models {

enum class DepthVariant { Hourglass3, MegaDepth };
std::string to_string(DepthVariant v);  // "hourglass3" | "megadepth"
// ConfigError naming `what` (a config key or a file attribute) for other names.
DepthVariant parse_depth_variant(const std::string& name, const std::string& what);

// (kernel, reduce channels, output channels) of an inception branch.
using InceptionBranch = std::array<int64_t, 3>;

class ConvBnImpl : public torch::nn::Module {
 public:
  ConvBnImpl(int64_t in, int64_t out, int64_t kernel, bool affine);
  torch::Tensor forward(const torch::Tensor& x);  // relu(bn(conv(x))), computed as relu(conv'(x))
  // conv' = the conv with the eval-mode BatchNorm folded in: (weight, bias).
  std::pair<torch::Tensor, torch::Tensor> folded() const;

 private:
  torch::nn::Conv2d conv_{nullptr};
  torch::nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(ConvBn);

class InceptionImpl : public torch::nn::Module {
 public:
  InceptionImpl(int64_t in, int64_t a, std::vector<InceptionBranch> branches);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvBn b0_{nullptr};
  std::vector<std::pair<ConvBn, ConvBn>> branches_;
};
TORCH_MODULE(Inception);

class HourglassImpl : public torch::nn::Module {
 public:
  explicit HourglassImpl(DepthVariant variant = DepthVariant::Hourglass3);
  DepthVariant variant() const { return variant_; }
  static const TapNames& tap_names();  // stem, L1, L2, L3, L4, output

  torch::Tensor forward(const torch::Tensor& x);  // the depth map (B, 1, H, W)
  // Activations at the wanted taps; stops once every wanted tap is computed.
  Taps forward_taps(const torch::Tensor& x, const TapNames& wanted);

  void train(bool on = true) override;  // always eval: this network is frozen

 private:
  struct Level {
    torch::nn::Sequential pre{nullptr}, post{nullptr}, skip{nullptr};
    bool max_pool = true;
  };
  // Level k (1..4) of the input; returns an undefined tensor once all wanted taps are in.
  torch::Tensor level(int k, const torch::Tensor& x, const TapNames& wanted, Taps& taps);
  ConvBn stem_{nullptr};
  std::array<Level, 5> levels_;  // index 1..4
  torch::nn::Conv2d head_{nullptr};
  DepthVariant variant_;
};
TORCH_MODULE(Hourglass);

}  // namespace dpst::models
