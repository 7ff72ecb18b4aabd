#include "data/image_tensor.h"

#include <cstdint>

#include "data/image_io.h"

namespace dpst::data {

torch::Tensor image_to_tensor(const cv::Mat& rgb) {
  auto planar = torch::empty({1, 3, rgb.rows, rgb.cols}, torch::kUInt8);
  to_planar(rgb, planar.data_ptr<uint8_t>());
  return planar.to(torch::kFloat).div_(255.0);
}

torch::Tensor load_style_image(const std::filesystem::path& path, int64_t short_side) {
  return image_to_tensor(resize_shorter_side(decode_image(path), static_cast<int>(short_side)));
}

}  // namespace dpst::data
