#include "data/other_formats.h"

namespace dpst::data {

cv::Mat decode_other_format(const std::string&, const std::string&) { return {}; }

const char* other_formats_text() {
  return "this build reads JPEG and PNG only (the GPU bundle's build, without OpenCV imgcodecs)";
}

}  // namespace dpst::data
