// PNG in and out through libpng, for every build: the same pixels as OpenCV's imgcodecs
// gave (16-bit rounded to 8 as v/257, palette and gray expanded to RGB, alpha dropped, no
// gamma applied), without imgcodecs' dependency chain (GDAL, poppler, codecs), which the
// GPU bundle cannot carry (launch/device/, results/device.md).
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace dpst::data {

// 8-bit RGB (CV_8UC3). Throws DecodeError (corrupt, too large) naming `name`; the caller
// has already checked the signature and the IEND chunk.
cv::Mat decode_png(const std::string& bytes, const std::string& name);

// The PNG file of an RGB CV_8UC3 image. Throws OutputError naming `name` if libpng fails.
std::string encode_png(const cv::Mat& rgb, const std::string& name);

}  // namespace dpst::data
