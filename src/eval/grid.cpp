#include "eval/grid.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "common/errors.h"
#include "eval/metrics.h"

namespace dpst::eval {
namespace {

constexpr int kMargin = 8, kGap = 4, kTitleBand = 24, kHeaderBand = 18, kLegendBand = 44;
constexpr double kFontScale = 0.4;
const cv::Scalar kInk(20, 20, 20), kPaper(255, 255, 255);

// Turbo index of a normalised depth n in [0, 1]: near (0) -> 255 (red), far (1) -> 0 (blue).
cv::Mat turbo_rgb(const cv::Mat& index_u8) {
  cv::Mat bgr, rgb;
  cv::applyColorMap(index_u8, bgr, cv::COLORMAP_TURBO);
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

void text(cv::Mat& img, const std::string& s, int x, int baseline_y) {
  cv::putText(img, s, cv::Point(x, baseline_y), cv::FONT_HERSHEY_SIMPLEX, kFontScale, kInk, 1, cv::LINE_AA);
}

int text_width(const std::string& s) {
  int base = 0;
  return cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, kFontScale, 1, &base).width;
}

cv::Mat enlarge(const cv::Mat& m, int factor) {
  if (factor == 1) return m;
  cv::Mat out;
  cv::resize(m, out, cv::Size(), factor, factor, cv::INTER_NEAREST);
  return out;
}

}  // namespace

cv::Mat depth_to_color(const torch::Tensor& depth) {
  const cv::Mat n = to_mat(minmax_normalise(depth));
  cv::Mat index;
  n.convertTo(index, CV_8U, -255.0, 255.0);  // 255·(1 − n), rounded and saturated
  return turbo_rgb(index);
}

cv::Mat image_to_mat(const torch::Tensor& rgb) {
  DPST_CHECK(rgb.defined() && rgb.dim() == 3 && rgb.size(0) == 3, InputError,
             "expected an RGB image (3, H, W), got " << rgb.sizes());
  const torch::Tensor hwc =
      rgb.detach().to(torch::kCPU, torch::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  cv::Mat out(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3);
  std::memcpy(out.data, hwc.data_ptr<uint8_t>(), static_cast<size_t>(hwc.numel()));
  return out;
}

cv::Mat render_grid(const Stylized& base, const Stylized& dp, const GridLabels& labels, int min_tile) {
  DPST_CHECK(base.x.defined() && dp.x.defined() && base.x.sizes() == dp.x.sizes() && base.x.size(0) >= 1,
             InternalError, "render_grid: baseline and depth-preserving outputs must cover the same images");
  const int rows = static_cast<int>(base.x.size(0));
  const int size = static_cast<int>(base.x.size(2));
  DPST_CHECK(base.x.size(2) == base.x.size(3), InternalError, "render_grid: expected square val images");
  const int factor = std::max(1, (min_tile + size - 1) / size);
  const int tile = size * factor;
  const int cols = 6;
  const int width = 2 * kMargin + cols * tile + (cols - 1) * kGap;
  const int height = kMargin + kTitleBand + kHeaderBand + rows * tile + (rows - 1) * kGap + kLegendBand;
  cv::Mat canvas(height, width, CV_8UC3, kPaper);

  text(canvas, labels.title, kMargin, kMargin + 14);
  const std::vector<std::string> headers = {"content x", "depth d(x)", labels.baseline, "d(baseline)",
                                            labels.preserving, "d(depth-preserving)"};
  const int top = kMargin + kTitleBand + kHeaderBand;
  for (int c = 0; c < cols; ++c) text(canvas, headers[c], kMargin + c * (tile + kGap), top - 5);

  for (int r = 0; r < rows; ++r) {
    const std::vector<cv::Mat> tiles = {image_to_mat(base.x[r]),       depth_to_color(base.depth_x[r]),
                                        image_to_mat(base.y[r]),       depth_to_color(base.depth_y[r]),
                                        image_to_mat(dp.y[r]),         depth_to_color(dp.depth_y[r])};
    for (int c = 0; c < cols; ++c) {
      const cv::Rect where(kMargin + c * (tile + kGap), top + r * (tile + kGap), tile, tile);
      enlarge(tiles[c], factor).copyTo(canvas(where));
    }
  }

  // Legend: a near -> far bar with its labels, and how the maps were drawn.
  const int bar_w = std::min(256, 2 * tile), bar_h = 12;
  const int bar_y = height - kLegendBand + 8;
  cv::Mat ramp(1, bar_w, CV_8U);
  for (int x = 0; x < bar_w; ++x) ramp.at<uint8_t>(0, x) = cv::saturate_cast<uint8_t>(255.0 - 255.0 * x / (bar_w - 1));
  cv::Mat bar;
  cv::resize(turbo_rgb(ramp), bar, cv::Size(bar_w, bar_h), 0, 0, cv::INTER_NEAREST);
  bar.copyTo(canvas(cv::Rect(kMargin, bar_y, bar_w, bar_h)));
  cv::rectangle(canvas, cv::Rect(kMargin - 1, bar_y - 1, bar_w + 2, bar_h + 2), kInk, 1);
  text(canvas, "near", kMargin, bar_y + bar_h + 14);
  text(canvas, "far", kMargin + bar_w - text_width("far"), bar_y + bar_h + 14);
  text(canvas, "depth: each map min-max normalised, turbo colormap", kMargin + bar_w + 12, bar_y + bar_h - 1);
  return canvas;
}

cv::Mat render_styles_grid(const torch::Tensor& x, const std::vector<torch::Tensor>& outputs,
                           const std::vector<std::string>& names, const std::string& title, int min_tile) {
  DPST_CHECK(x.defined() && x.dim() == 4 && x.size(0) >= 1 && !outputs.empty() && outputs.size() == names.size(),
             InternalError, "render_styles_grid: expected images and one named output per style");
  for (const auto& y : outputs)
    DPST_CHECK(y.sizes() == x.sizes(), InternalError, "render_styles_grid: an output does not cover the same images");
  const int rows = static_cast<int>(x.size(0));
  const int h = static_cast<int>(x.size(2)), w = static_cast<int>(x.size(3));
  const int factor = std::max(1, (min_tile + std::min(h, w) - 1) / std::min(h, w));
  const int tile_h = h * factor, tile_w = w * factor;
  const int cols = static_cast<int>(outputs.size()) + 1;
  const int width = std::max(2 * kMargin + cols * tile_w + (cols - 1) * kGap, 2 * kMargin + text_width(title));
  const int height = kMargin + kTitleBand + kHeaderBand + rows * tile_h + (rows - 1) * kGap + kMargin;
  cv::Mat canvas(height, width, CV_8UC3, kPaper);
  text(canvas, title, kMargin, kMargin + 14);
  const int top = kMargin + kTitleBand + kHeaderBand;
  std::vector<std::string> headers = {"content x"};
  headers.insert(headers.end(), names.begin(), names.end());
  for (int c = 0; c < cols; ++c) text(canvas, headers[static_cast<size_t>(c)], kMargin + c * (tile_w + kGap), top - 5);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const torch::Tensor& image = c == 0 ? x[r] : outputs[static_cast<size_t>(c - 1)][r];
      const cv::Rect where(kMargin + c * (tile_w + kGap), top + r * (tile_h + kGap), tile_w, tile_h);
      enlarge(image_to_mat(image), factor).copyTo(canvas(where));
    }
  }
  return canvas;
}

}  // namespace dpst::eval
