// Images as tensors: the one conversion between decoded RGB images (image_io.h) and the
// networks' input convention, RGB float in [0, 1], NCHW.
#pragma once

#include <cstdint>
#include <filesystem>

#include <opencv2/core.hpp>
#include <torch/types.h>

namespace dpst::data {

// RGB uint8 image (CV_8UC3) -> float tensor (1, 3, H, W) in [0, 1], on the CPU.
torch::Tensor image_to_tensor(const cv::Mat& rgb);

// The style image as training and evaluation use it: decoded, shorter side resized to
// `short_side` (loss.style_size), as image_to_tensor(). Throws DecodeError naming the file.
torch::Tensor load_style_image(const std::filesystem::path& path, int64_t short_side);

}  // namespace dpst::data
