// The VGG16 loss network: torchvision's vgg16().features truncated after relu4_3
// (indices 0..22, convs features.{0,2,5,7,10,12,14,17,19,21}), with named taps
// relu1_2 (index 3), relu2_2 (8), relu3_3 (15), relu4_3 (22). The forward stops after
// the last tap asked for.
//
// Input: RGB in [0, 1] (the f_W convention). The module applies its own
// preprocessing, chosen by the weight file it was loaded from:
//   imagenet  (torchvision weights): (x - (0.485, 0.456, 0.406)) / (0.229, 0.224, 0.225)
//   caffe_bgr (Keras weights):       x*255 in BGR order minus (103.939, 116.779, 123.68)
#pragma once

#include <string>

#include <torch/torch.h>

#include "models/taps.h"

namespace dpst::models {

enum class VggPreprocessing { ImageNet, CaffeBgr };

// "imagenet" / "caffe_bgr"; parse throws InputError on anything else.
std::string to_string(VggPreprocessing p);
VggPreprocessing parse_vgg_preprocessing(const std::string& name);

class Vgg16Impl : public torch::nn::Module {
 public:
  Vgg16Impl();
  static const TapNames& tap_names();  // relu1_2, relu2_2, relu3_3, relu4_3

  // Activations at the wanted taps for x, RGB in [0, 1].
  Taps forward_taps(const torch::Tensor& x, const TapNames& wanted);
  torch::Tensor preprocess(const torch::Tensor& x);

  void set_preprocessing(VggPreprocessing p) { preprocessing_ = p; }
  VggPreprocessing preprocessing() const { return preprocessing_; }

 private:
  torch::nn::Sequential features_{nullptr};
  VggPreprocessing preprocessing_ = VggPreprocessing::ImageNet;
  // Mean and std on the last input's device and dtype (no host copies per step).
  torch::Tensor mean_, std_;
  VggPreprocessing cached_preprocessing_ = VggPreprocessing::ImageNet;
};
TORCH_MODULE(Vgg16);

}  // namespace dpst::models
