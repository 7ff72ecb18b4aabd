// f_W, the image transform network of Johnson et al. 2016, laid out exactly like
// pytorch/examples' fast_neural_style TransformerNet so exported weights load there:
//   conv1.conv2d, in1, conv2.conv2d, in2, conv3.conv2d, in3, res1..resN.{conv1.conv2d,
//   in1, conv2.conv2d, in2}, deconv1.conv2d, in4, deconv2.conv2d, in5, deconv3.conv2d.
// ConvLayer = reflection padding (k/2) + conv; UpsampleConvLayer = nearest x2 upsample
// first; InstanceNorm with affine scale/shift, no running statistics.
//
// MANY STYLES IN ONE NET (Dumoulin et al. 2017, conditional instance norm): with
// options.styles = N > 1 every InstanceNorm's weight and bias are (N, C), one row per style,
// and everything else is shared. forward(x, style_weights) takes one row of N weights per
// batch element (one-hot to train a style, any mix to blend): each element's gamma and beta
// are the weighted sums of the rows, applied as InstanceNorm2d applies its own. With N = 1
// the net is exactly today's TransformerNet; blended() turns any mix back into one.
//
// INPUT/OUTPUT CONVENTION (the one place it is stated): f_W maps RGB images in [0, 1]
// (B, 3, H, W) to RGB images on the same [0, 1] scale. The output is not clamped here;
// clamp only when saving an image. pytorch/examples uses 0-255 images instead: a Python
// user of an exported dpst model feeds x/255 and multiplies the output by 255.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace dpst::models {

// The statistics of every InstanceNorm of one f_W forward pass, in forward order: one
// (mean, biased variance) pair of (B, C, 1, 1) tensors each. Recorded on one image and
// applied to pieces of it, they make tiles compute exactly what the whole image would
// (an InstanceNorm otherwise normalises each tile by its own statistics).
struct InstanceNormStats {
  std::vector<std::pair<torch::Tensor, torch::Tensor>> mean_var;
};

// How forward treats the InstanceNorms: each input's own statistics (training, plain
// inference), or recorded into / applied from an InstanceNormStats.
enum class NormStatsMode { kOwn, kRecord, kApply };

struct TransformNetOptions {
  int64_t width = 32;           // channels of the first conv; then 2x and 4x (paper: 32)
  int64_t residual_blocks = 5;  // paper: 5
  int64_t styles = 1;           // rows of each InstanceNorm's weight and bias (see above)
};

// ConvLayer / UpsampleConvLayer of pytorch/examples (child named "conv2d").
class ConvLayerImpl : public torch::nn::Module {
 public:
  ConvLayerImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t upsample = 1);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::ReflectionPad2d pad_{nullptr};
  torch::nn::Conv2d conv2d_{nullptr};
  int64_t upsample_;
};
TORCH_MODULE(ConvLayer);

// InstanceNorm2d's own arithmetic with given statistics: (y - mean) / sqrt(var + eps),
// then its affine scale and shift.
torch::Tensor instance_norm_with(torch::nn::InstanceNorm2dImpl& in, const torch::Tensor& y, const torch::Tensor& mean,
                                 const torch::Tensor& var);

// One InstanceNorm applied under a NormStatsMode (see InstanceNormStats).
using NormFunction = std::function<torch::Tensor(torch::nn::InstanceNorm2dImpl&, const torch::Tensor&)>;

class ResidualBlockImpl : public torch::nn::Module {
 public:
  explicit ResidualBlockImpl(int64_t channels, int64_t styles = 1);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor forward(const torch::Tensor& x, const NormFunction& norm);

 private:
  ConvLayer conv1_{nullptr}, conv2_{nullptr};
  torch::nn::InstanceNorm2d in1_{nullptr}, in2_{nullptr};
};
TORCH_MODULE(ResidualBlock);

class TransformNetImpl : public torch::nn::Module {
 public:
  explicit TransformNetImpl(TransformNetOptions options = {});
  // A one-style net; InputError for a net of several styles (it needs style weights).
  torch::Tensor forward(const torch::Tensor& x);
  // Any net: style_weights (B, N) or (1, N) float, one row per batch element (broadcast
  // when 1); each element's InstanceNorm weight and bias are style_weights @ rows.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& style_weights);
  // forward with the InstanceNorm statistics recorded into `stats` (kRecord) or taken
  // from it (kApply; batch 1 statistics broadcast over the batch). One-style nets only.
  torch::Tensor forward(const torch::Tensor& x, NormStatsMode mode, InstanceNormStats& stats);
  // forward with every InstanceNorm replaced by `norm` (called in forward order).
  torch::Tensor forward(const torch::Tensor& x, const NormFunction& norm);
  const TransformNetOptions& options() const { return options_; }
  // How far (in input pixels) an output pixel can see: a tile that extends this far
  // beyond the pixels it keeps computes them exactly as the whole image does.
  int64_t receptive_radius() const { return receptive_radius(options_); }
  static int64_t receptive_radius(const TransformNetOptions& options);

  // Names of the parameters that cannot change the output: the bias of every conv that
  // feeds an InstanceNorm (the norm subtracts any per-channel constant) and each residual
  // block's in2.bias (a per-channel constant that the next InstanceNorm removes). Their
  // true gradient is exactly 0; the computed one is rounding noise, which Adam would
  // scale up to full-size steps. They stay in the weight file (TransformerNet layout) but
  // the trainer does not optimise them.
  std::vector<std::string> normalised_away_parameters() const;
  // Every other parameter: what the trainer optimises and all-reduces.
  std::vector<torch::Tensor> trained_parameters() const;
  // Names of the InstanceNorm weights and biases: the per-style rows of a multi-style net
  // (everything else is shared by the styles).
  std::vector<std::string> style_row_parameters() const;

 private:
  TransformNetOptions options_;
  ConvLayer conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::InstanceNorm2d in1_{nullptr}, in2_{nullptr}, in3_{nullptr}, in4_{nullptr}, in5_{nullptr};
  std::vector<ResidualBlock> res_;
  ConvLayer deconv1_{nullptr}, deconv2_{nullptr}, deconv3_{nullptr};
};
TORCH_MODULE(TransformNet);

// A one-style net computing `net` with the given style weights (N floats): the same
// shared weights, each InstanceNorm's weight and bias the weighted sum of its rows
// (Dumoulin et al.'s blend; one-hot weights pick a row exactly). What dpst-stylize and the
// exporters run, so every tool that loads a TransformerNet loads each style and blend.
TransformNet blended(const TransformNetImpl& net, const torch::Tensor& style_weights);

// `base` with `added` more styles (Dumoulin et al.'s adding a style): the same shared
// weights and style rows, then `added` new rows, each the mean of base's rows (training
// starts from the average style). On the CPU.
TransformNet with_added_styles(const TransformNetImpl& base, int64_t added);

}  // namespace dpst::models
