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
// InstanceNorm2d with its affine weight and bias: (C) for one style, (styles, C) for several
// (the same parameters, reshaped: InstanceNorm2d's own forward then refuses them, so only
// forward(x, style_weights) runs such a norm).
nn::InstanceNorm2d instance_norm(int64_t channels, int64_t styles) {
  nn::InstanceNorm2d in(nn::InstanceNorm2dOptions(channels).affine(true).track_running_stats(false));
  if (styles > 1) {
    torch::NoGradGuard no_grad;
    in->weight.set_data(torch::ones({styles, channels}));
    in->bias.set_data(torch::zeros({styles, channels}));
  }
  return in;
}

// Σ_s w[b, s] · rows[s]: (B, N) x (N, C) -> (B, C), as an elementwise product and a sum in
// the rows' dtype (autocast leaves both alone), exact for one-hot weights.
torch::Tensor weighted_rows(const torch::Tensor& weights, const torch::Tensor& rows) {
  return (weights.unsqueeze(2) * rows.unsqueeze(0)).sum(1);
}

// InstanceNorm2d's forward (at::instance_norm: batch_norm over (1, B*C, H, W)) with each
// batch element's own weight and bias rows.
torch::Tensor conditional_instance_norm(nn::InstanceNorm2dImpl& in, const torch::Tensor& y,
                                        const torch::Tensor& style_weights) {
  const int64_t b = y.size(0), c = y.size(1);
  const torch::Tensor w = style_weights.size(0) == b ? style_weights : style_weights.expand({b, -1});
  const torch::Tensor gamma = weighted_rows(w, in.weight).reshape({b * c});
  const torch::Tensor beta = weighted_rows(w, in.bias).reshape({b * c});
  return torch::batch_norm(y.contiguous().view({1, b * c, y.size(2), y.size(3)}), gamma, beta, {}, {},
                           /*training=*/true, /*momentum=*/0.0, in.options.eps(),
                           at::globalContext().userEnabledCuDNN())
      .view(y.sizes());
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

ResidualBlockImpl::ResidualBlockImpl(int64_t channels, int64_t styles) {
  conv1_ = register_module("conv1", ConvLayer(channels, channels, 3, 1));
  in1_ = register_module("in1", instance_norm(channels, styles));
  conv2_ = register_module("conv2", ConvLayer(channels, channels, 3, 1));
  in2_ = register_module("in2", instance_norm(channels, styles));
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
  DPST_CHECK(options.width >= 1 && options.residual_blocks >= 0 && options.styles >= 1, ConfigError,
             "transform net needs width >= 1, residual_blocks >= 0 and styles >= 1 (got "
                 << options.width << ", " << options.residual_blocks << ", " << options.styles << ")");
  const int64_t n = options.styles;
  const int64_t w1 = options.width, w2 = 2 * w1, w3 = 4 * w1;
  conv1_ = register_module("conv1", ConvLayer(3, w1, 9, 1));
  in1_ = register_module("in1", instance_norm(w1, n));
  conv2_ = register_module("conv2", ConvLayer(w1, w2, 3, 2));
  in2_ = register_module("in2", instance_norm(w2, n));
  conv3_ = register_module("conv3", ConvLayer(w2, w3, 3, 2));
  in3_ = register_module("in3", instance_norm(w3, n));
  for (int64_t i = 0; i < options.residual_blocks; ++i)
    res_.push_back(register_module("res" + std::to_string(i + 1), ResidualBlock(w3, n)));
  deconv1_ = register_module("deconv1", ConvLayer(w3, w2, 3, 1, 2));
  in4_ = register_module("in4", instance_norm(w2, n));
  deconv2_ = register_module("deconv2", ConvLayer(w2, w1, 3, 1, 2));
  in5_ = register_module("in5", instance_norm(w1, n));
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

std::vector<std::string> TransformNetImpl::style_row_parameters() const {
  std::vector<std::string> names;
  for (const auto& item : named_parameters()) {
    const std::string& key = item.key();  // in1.weight, res2.in1.bias; convs are conv*/deconv*
    if (key.rfind("in", 0) == 0 || key.find(".in") != std::string::npos) names.push_back(key);
  }
  return names;
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x) {
  DPST_CHECK(options_.styles == 1, InputError,
             "this f_W holds " << options_.styles << " styles: say which (style weights, or dpst-stylize --style)");
  return forward(x, [](nn::InstanceNorm2dImpl& in, const torch::Tensor& y) { return in.forward(y); });
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x, const torch::Tensor& style_weights) {
  DPST_CHECK(style_weights.dim() == 2 && style_weights.size(1) == options_.styles &&
                 (style_weights.size(0) == 1 || style_weights.size(0) == x.size(0)),
             InputError,
             "style weights must be (1 or batch, " << options_.styles << "), got " << style_weights.sizes());
  const torch::Tensor w = style_weights.to(x.device(), torch::kFloat);
  return forward(x, [&](nn::InstanceNorm2dImpl& in, const torch::Tensor& y) {
    return conditional_instance_norm(in, y, w);
  });
}

torch::Tensor TransformNetImpl::forward(const torch::Tensor& x, NormStatsMode mode, InstanceNormStats& stats) {
  DPST_CHECK(options_.styles == 1, InternalError, "statistics modes run on one-style nets (blended())");
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

TransformNet blended(const TransformNetImpl& net, const torch::Tensor& style_weights) {
  const int64_t n = net.options().styles;
  DPST_CHECK(style_weights.dim() == 1 && style_weights.size(0) == n, InputError,
             "style weights must be " << n << " numbers, got " << style_weights.sizes());
  TransformNetOptions options = net.options();
  options.styles = 1;
  TransformNet out(options);
  torch::NoGradGuard no_grad;
  const auto source = net.named_parameters();
  const torch::Tensor w = style_weights.to(torch::kFloat).view({1, n});
  for (auto& item : out->named_parameters()) {
    const torch::Tensor& from = source[item.key()];
    const torch::Tensor value = from.dim() == 2 ? weighted_rows(w.to(from.device()), from).view({-1}) : from;
    item.value().copy_(value);
  }
  out->to(net.parameters().front().device());
  return out;
}

TransformNet with_added_styles(const TransformNetImpl& base, int64_t added) {
  DPST_CHECK(added >= 1, InternalError, "with_added_styles: no style to add");
  const int64_t n0 = base.options().styles;
  TransformNetOptions options = base.options();
  options.styles = n0 + added;
  TransformNet out(options);
  torch::NoGradGuard no_grad;
  const auto source = base.named_parameters();
  const auto rows = out->style_row_parameters();
  for (auto& item : out->named_parameters()) {
    const torch::Tensor from = source[item.key()].to(torch::kCPU);
    if (std::find(rows.begin(), rows.end(), item.key()) == rows.end()) {
      item.value().copy_(from);
      continue;
    }
    const torch::Tensor old_rows = from.view({n0, -1});
    item.value().narrow(0, 0, n0).copy_(old_rows);
    item.value().narrow(0, n0, added).copy_(old_rows.mean(0, /*keepdim=*/true).expand({added, -1}));
  }
  return out;
}

}  // namespace dpst::models
