// Helpers for the data tests: tiny synthetic images and packed files.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/data.h"

namespace dpst::test {

// A BGR image with a per-seed gradient, so every test image is distinct.
inline cv::Mat pattern(int w, int h, int seed, int type = CV_8UC3) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>((x * 7 + seed * 31) % 256),
                                        static_cast<uint8_t>((y * 5 + seed * 17) % 256),
                                        static_cast<uint8_t>((x + y + seed * 53) % 256));
  if (type == CV_8UC3) return m;
  cv::Mat out;
  m.convertTo(out, type);
  return out;
}

inline void write_image(const std::filesystem::path& path, const cv::Mat& m, std::vector<int> params = {}) {
  std::filesystem::create_directories(path.parent_path());
  if (!cv::imwrite(path.string(), m, params)) throw std::runtime_error("cannot write " + path.string());
}

// Packs n distinct w x h JPEGs named img_000.jpg... into `out` with side `size`.
inline void make_packed(const std::filesystem::path& dir, const std::filesystem::path& out, int n, int size,
                        const std::string& split = "train2014") {
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "img_%03d.png", i);
    write_image(dir / name, pattern(size + 8, size + 4, i));
  }
  data::PackOptions o;
  o.images_dir = dir;
  o.split_name = split;
  o.out = out;
  o.size = size;
  o.threads = 2;
  data::pack(o);
}

}  // namespace dpst::test
