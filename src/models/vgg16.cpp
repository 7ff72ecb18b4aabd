#include "models/vgg16.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/errors.h"
#include "config/net_facts.h"
#include "models/macs.h"

namespace dpst::models {
namespace nn = torch::nn;

namespace {
// Index in `features` of each tap in tap_names() (the ReLU after the block's last conv).
const std::vector<int> kTapIndex = {3, 8, 15, 22};
}  // namespace

std::string to_string(VggPreprocessing p) { return p == VggPreprocessing::ImageNet ? "imagenet" : "caffe_bgr"; }

VggPreprocessing parse_vgg_preprocessing(const std::string& name) {
  if (name == "imagenet") return VggPreprocessing::ImageNet;
  if (name == "caffe_bgr") return VggPreprocessing::CaffeBgr;
  DPST_THROW(InputError, "unknown VGG16 preprocessing '" << name << "' (known: imagenet, caffe_bgr)");
}

Vgg16Impl::Vgg16Impl() {
  features_ = nn::Sequential();
  // Layer list of torchvision's cfg "D" up to relu4_3: numbers are conv widths, 0 a max pool.
  const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512};
  int64_t in = 3;
  for (int c : cfg) {
    if (c == 0) {
      features_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    } else {
      features_->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1)));
      features_->push_back(nn::ReLU());
      in = c;
    }
  }
  register_module("features", features_);
}

const TapNames& Vgg16Impl::tap_names() { return config::vgg16_tap_names(); }

torch::Tensor Vgg16Impl::preprocess(const torch::Tensor& x) {
  DPST_CHECK(x.dim() == 4 && x.size(1) == 3, InputError,
             "VGG16 expects (B, 3, H, W) RGB in [0, 1], got shape " << x.sizes());
  const bool caffe = preprocessing_ == VggPreprocessing::CaffeBgr;
  if (!mean_.defined() || mean_.device() != x.device() || mean_.scalar_type() != x.scalar_type() ||
      cached_preprocessing_ != preprocessing_) {
    const std::vector<float> mean = caffe ? std::vector<float>{103.939f, 116.779f, 123.68f}
                                          : std::vector<float>{0.485f, 0.456f, 0.406f};
    const std::vector<float> std = {0.229f, 0.224f, 0.225f};
    mean_ = torch::tensor(mean).view({1, 3, 1, 1}).to(x.device(), x.scalar_type());
    std_ = torch::tensor(std).view({1, 3, 1, 1}).to(x.device(), x.scalar_type());
    cached_preprocessing_ = preprocessing_;
  }
  if (caffe) return x.flip({1}) * 255.0 - mean_;
  return (x - mean_) / std_;
}

Taps Vgg16Impl::forward_taps(const torch::Tensor& x, const TapNames& wanted) {
  check_tap_names(wanted, tap_names(), "VGG16");
  int last = -1;
  const TapNames& names = tap_names();
  for (size_t t = 0; t < names.size(); ++t)
    if (std::find(wanted.begin(), wanted.end(), names[t]) != wanted.end()) last = std::max(last, kTapIndex[t]);
  Taps taps;
  if (last < 0) return taps;
  torch::Tensor y = preprocess(x);
  auto layer = features_->begin();
  for (int i = 0; i <= last; ++i, ++layer) {
    if (layer->ptr()->as<nn::Conv2dImpl>() != nullptr) {
      nn::Conv2d conv(std::dynamic_pointer_cast<nn::Conv2dImpl>(layer->ptr()));
      y = counted_conv(conv, y);
    } else {
      y = layer->forward(y);
    }
    for (size_t t = 0; t < names.size(); ++t)
      if (kTapIndex[t] == i && std::find(wanted.begin(), wanted.end(), names[t]) != wanted.end()) taps[names[t]] = y;
  }
  return taps;
}

}  // namespace dpst::models
