#include "models/transform_net.h"

#include <algorithm>

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

ResidualBlockImpl::ResidualBlockImpl(int64_t channels) {
  conv1_ = register_module("conv1", ConvLayer(channels, channels, 3, 1));
  in1_ = register_module("in1", instance_norm(channels));
  conv2_ = register_module("conv2", ConvLayer(channels, channels, 3, 1));
  in2_ = register_module("in2", instance_norm(channels));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = torch::relu(in1_->forward(conv1_->forward(x)));
  out = in2_->forward(conv2_->forward(out));
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
  DPST_CHECK(x.dim() == 4 && x.size(1) == 3, InputError,
             "transform net expects (B, 3, H, W) RGB in [0, 1], got shape " << x.sizes());
  torch::Tensor y = torch::relu(in1_->forward(conv1_->forward(x)));
  y = torch::relu(in2_->forward(conv2_->forward(y)));
  y = torch::relu(in3_->forward(conv3_->forward(y)));
  for (auto& block : res_) y = block->forward(y);
  y = torch::relu(in4_->forward(deconv1_->forward(y)));
  y = torch::relu(in5_->forward(deconv2_->forward(y)));
  return deconv3_->forward(y);
}

}  // namespace dpst::models
