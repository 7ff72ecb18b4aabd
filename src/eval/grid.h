// Image grids for a person to look at: per style, one row per val image with
//   content | δ(x) | baseline ŷ | δ(baseline ŷ) | depth-preserving ŷ | δ(ŷ)
// and, per multi-style trial, content | ŷ of style 1 | ŷ of style 2 | ...
// Depth maps are min-max normalised per map and drawn with OpenCV's turbo colormap,
// near = red, far = blue (the hourglass predicts larger values farther away, as Chen et
// al.'s relative depth), with a legend bar. Small tiles are enlarged by an integer
// factor (nearest neighbour) so 32-pixel demo images stay visible. PNG bytes depend
// only on the inputs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/types.h>

#include "eval/evaluate.h"

namespace dpst::eval {

// A depth map (H, W) (or (1, H, W)) as an RGB CV_8UC3 image.
cv::Mat depth_to_color(const torch::Tensor& depth);

// An RGB image (3, H, W) in [0, 1] as RGB CV_8UC3 (rounded, clamped).
cv::Mat image_to_mat(const torch::Tensor& rgb);

struct GridLabels {
  std::string title;       // top line, ASCII (OpenCV's Hershey fonts have no λ or δ)
  std::string baseline;    // e.g. "baseline (lambda3=0)"
  std::string preserving;  // e.g. "lambda3=1e5"
};

// The grid as RGB CV_8UC3. baseline and preserving must hold the same x (same rows).
// min_tile: tiles are enlarged by the smallest integer factor reaching this side.
cv::Mat render_grid(const Stylized& baseline, const Stylized& preserving, const GridLabels& labels,
                    int min_tile = 128);

// A multi-style f_W's styles side by side: one row per image, content x then each
// style's ŷ (outputs[s], (B, 3, H, W) like x), headed by the style names.
cv::Mat render_styles_grid(const torch::Tensor& x, const std::vector<torch::Tensor>& outputs,
                           const std::vector<std::string>& names, const std::string& title, int min_tile = 128);

}  // namespace dpst::eval
