// Image formats beyond JPEG and PNG (BMP, TIFF, WebP, ...): which library reads them is
// a build choice, made by linking one of two files (src/CMakeLists.txt):
//  - other_formats_opencv.cpp: OpenCV's imgcodecs (every build in build/bin);
//  - other_formats_none.cpp: none, JPEG and PNG only (the GPU bundle's build in
//    build/device/bin: imgcodecs pulls GDAL, poppler and a dozen codecs, 150+ MB, that
//    the bundle cannot carry; results/device.md).
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace dpst::data {

// The decoded image as OpenCV's IMREAD_UNCHANGED gives it (BGR/BGRA/gray, 8 or 16 bit),
// or an empty Mat when this build cannot read the bytes. Throws DecodeError (not an
// image) only for a library exception.
cv::Mat decode_other_format(const std::string& bytes, const std::string& name);

// How the message for undecodable bytes goes on after "no JPEG/PNG signature and ": what
// this build does with other formats.
const char* other_formats_text();

}  // namespace dpst::data
