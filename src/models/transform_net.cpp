#include "models/transform_net.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "common/errors.h"
#include "models/macs.h"

namespace dpst::models {
namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {
nn::InstanceNorm2d instance_norm(int64_t channels) {
  return nn::InstanceNorm2d(nn::InstanceNorm2dOptions(channels).affine(true).track_running_stats(false));
}
}  // namespace

ConvLayerImpl::ConvLayerImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t upsample)
    : upsample_(upsample) {
  pad_ = register_module("reflection_pad", nn::ReflectionPad2d(kernel / 2));
  conv2d_ = register_module("conv2d", nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride)));
}

torch::Tensor ConvLayerImpl::forward(const torch::Tensor& x) {
  torch::Tensor y = x;
  if (upsample_ > 1) {
    y = F::interpolate(y, F::InterpolateFuncOptions()
                              .scale_factor(std::vector<double>{double(upsample_), double(upsample_)})
                              .mode(torch::kNearest));
  }
  return counted_conv(conv2d_, pad_->forward(y));
}

torch::Tensor instance_norm_with(nn::InstanceNorm2dImpl& in, const torch::Tensor& y, const torch::Tensor& mean,
                                 const torch::Tensor& var) {
  return (y - mean) * (in.weight.view({1, -1, 1, 1}) * torch::rsqrt(var + in.options.eps())) +
         in.bias.view({1, -1, 1, 1});
}

ResidualBlockImpl::ResidualBlockImpl(int64_t channels) {
  conv1_ = register_module("conv1", ConvLayer(channels, channels, 3, 1));
  in1_ = register_module("in1", instance_norm(channels));
  conv2_ = register_module("conv2", ConvLayer(channels, channels, 3, 1));
  in2_ = register_module("in2", instance_norm(channels));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  return forward(x, [](nn::InstanceNorm2dImpl& in, const torch::Tensor& y) { return in.forward(y); });
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x, const NormFunction& norm) {
  torch::Tensor out = torch::relu(norm(*in1_, conv1_->forward(x)));
  out = norm(*in2_, conv2_->forward(out));
  return out + x;
}

TransformNetImpl::TransformNetImpl(TransformNetOptions options) : options_(options) {
  DPST_CHECK(options.width >= 1 && options.residual_blocks >= 0, ConfigError,
             "transform net needs width >= 1 and residual_blocks >= 0 (got " << options.width << ", "
                                                                             << options.residual_blocks << ")");
  const int64_t w1 = options.width, w2 = 2 * w1, w3 = 4 * w1;
  conv1_ = register_module("conv1", ConvLayer(3, w1, 9, 1));
  in1_ = register_module("in1", instance_norm(w1));
  conv2_ = register_module("conv2", ConvLayer(w1, w2, 3, 2));
  in2_ = register_module("in2", instance_norm(w2));
  conv3_ = register_module("conv3", ConvLayer(w2, w3, 3, 2));
  in3_ = register_module("in3", instance_norm(w3));
  for (int64_t i = 0; i < options.residual_blocks; ++i)
    res_.push_back(register_module("res" + std::to_string(i + 1), ResidualBlock(w3)));
  deconv1_ = register_module("deconv1", ConvLayer(w3, w2, 3, 1, 2));
  in4_ = register_module("in4", instance_norm(w2));
  deconv2_ = register_module("deconv2", ConvLayer(w2, w1, 3, 1, 2));
  in5_ = register_module("in5", instance_norm(w1));
  deconv3_ = register_module("deconv3", ConvLayer(w1, 3, 9, 1));
}

std::vector<std::string> TransformNetImpl::normalised_away_parameters() const {
  std::vector<std::string> names = {"conv1.conv2d.bias", "conv2.conv2d.bias", "conv3.conv2d.bias",
                                    "deconv1.conv2d.bias", "deconv2.conv2d.bias"};
  for (int64_t i = 1; i <= options_.residual_blocks; ++i) {
    const std::string block = "res" + std::to_string(i);
    for (const char* leaf : {".conv1.conv2d.bias", ".conv2.conv2d.bias", ".in2.bias"}) names.push_back(block + leaf);
  }
  return names;
}

std::vector<torch::Tensor> TransformNetImpl::trained_parameters() const {
  const auto skip = normalised_away_parameters();
  std::vector<torch::Tensor> out;
  for (const auto& item : named_parameters()) {
    if (std::find(skip.begin(), skip.end(), item.key()) == skip.end()) out.push_back(item.value());
  }
  return out;
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x) {
  return forward(x, [](nn::InstanceNorm2dImpl& in, const torch::Tensor& y) { return in.forward(y); });
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x, NormStatsMode mode, InstanceNormStats& stats) {
  if (mode == NormStatsMode::kOwn) return forward(x);
  if (mode == NormStatsMode::kRecord) stats.mean_var.clear();
  size_t next = 0;
  const size_t expected = 5 + 2 * static_cast<size_t>(options_.residual_blocks);
  DPST_CHECK(mode == NormStatsMode::kRecord || stats.mean_var.size() == expected, InternalError,
             "InstanceNorm statistics for " << stats.mean_var.size() << " norms, this f_W has " << expected);
  return forward(x, [&](nn::InstanceNorm2dImpl& in, const torch::Tensor& y) {
    // InstanceNorm2d's own arithmetic: biased variance over H x W, eps inside the root.
    if (mode == NormStatsMode::kRecord) {
      auto var_mean = torch::var_mean(y, {2, 3}, /*unbiased=*/false, /*keepdim=*/true);
      stats.mean_var.emplace_back(std::get<1>(var_mean), std::get<0>(var_mean));
    }
    const auto& [mean, var] = stats.mean_var.at(next++);
    return instance_norm_with(in, y, mean, var);
  });
}

int64_t TransformNetImpl::receptive_radius(const TransformNetOptions& options) {
  // (kernel - 1) / 2 at each layer's input stride: conv1 9x9 (4), conv2 3x3 at 1 (1), conv3
  // 3x3 at 2 (2), 2 per residual block 3x3 at 4 (4 each), deconv1 3x3 at 2 (2), deconv2
  // 3x3 at 1 (1), deconv3 9x9 (4); + 4 for where the stride-2 and nearest-x2 grids fall.
  return 4 + 1 + 2 + 8 * options.residual_blocks + 2 + 1 + 4 + 4;
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x, const NormFunction& norm) {
  DPST_CHECK(x.dim() == 4 && x.size(1) == 3, InputError,
             "transform net expects (B, 3, H, W) RGB in [0, 1], got shape " << x.sizes());
  torch::Tensor y = torch::relu(norm(*in1_, conv1_->forward(x)));
  y = torch::relu(norm(*in2_, conv2_->forward(y)));
  y = torch::relu(norm(*in3_, conv3_->forward(y)));
  for (auto& block : res_) y = block->forward(y, norm);
  y = torch::relu(norm(*in4_, deconv1_->forward(y)));
  y = torch::relu(norm(*in5_, deconv2_->forward(y)));
  return deconv3_->forward(y);
}

}  // namespace dpst::models
