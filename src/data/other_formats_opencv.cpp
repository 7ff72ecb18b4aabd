#include <opencv2/imgcodecs.hpp>

#include "data/image_io.h"
#include "data/other_formats.h"

namespace dpst::data {

cv::Mat decode_other_format(const std::string& bytes, const std::string& name) {
  try {
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
    return cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw DecodeError(DecodeFailure::kNotAnImage, name + ": not an image (" + e.what() + ")");
  }
}

const char* other_formats_text() { return "no other format OpenCV can read"; }

}  // namespace dpst::data
