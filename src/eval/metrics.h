// Evaluation metrics as pure functions of images and depth maps (no networks here).
//
// SSIM is exactly scikit-image's (0.19)
//   skimage.metrics.structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
//                                         use_sample_covariance=False, data_range=1.0)
// i.e. Wang et al. 2004 as the seed paper uses it: an 11x11 Gaussian window (σ = 1.5,
// truncated at 3.5σ, normalised), local means/variances/covariance with population
// (1/N) normalisation, K1 = 0.01, K2 = 0.03, C = (K·data_range)², borders filled by
// mirroring with the edge pixel repeated (scipy.ndimage 'reflect'), and the mean of the
// SSIM map over the interior (5 pixels cropped on every side). tests/eval checks it
// against tests/eval/make_ssim_reference.py on real photos.
#pragma once

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/types.h>

namespace dpst::eval {

struct SsimOptions {
  double data_range = 1.0;
  double sigma = 1.5;
  double k1 = 0.01;
  double k2 = 0.03;
};

// Side of the Gaussian window: 2·int(3.5σ + 0.5) + 1 (11 for σ = 1.5), as skimage.
int ssim_window(double sigma);

// Mean SSIM of two single-channel images of the same size (any depth; computed in
// double). InputError if the sizes differ or an image is smaller than the window.
double ssim(const cv::Mat& a, const cv::Mat& b, const SsimOptions& options = {});

// Luminance of an RGB image, skimage.color.rgb2gray's weights 0.2125 R + 0.7154 G +
// 0.0721 B. rgb: (3, H, W) float tensor in [0, 1]. Returns (H, W) CV_64F.
cv::Mat to_gray(const torch::Tensor& rgb);

// Grayscale SSIM of two RGB images (3, H, W) in [0, 1], data_range 1: the seed paper's
// only metric (stylized ŷ vs content x).
double ssim_gray(const torch::Tensor& a, const torch::Tensor& b);

// (H, W) tensor (or (1, H, W)) -> CV_64F matrix (a copy).
cv::Mat to_mat(const torch::Tensor& map);

// (d − min) / (max − min) in double; a constant map becomes all zeros (no range to
// normalise, and 0 keeps every later metric finite).
torch::Tensor minmax_normalise(const torch::Tensor& depth);

// Pearson correlation of two equally sized tensors (flattened). NaN when either is
// constant (the correlation is undefined there, and the tables print "nan").
double pearson(const torch::Tensor& a, const torch::Tensor& b);

// SSIM of the min-max-normalised depth maps (H, W), data_range 1.
double depth_ssim(const torch::Tensor& a, const torch::Tensor& b);

// A pair of pixel positions (flat indices y·W + x).
struct PixelPair {
  int64_t i = 0, j = 0;
};

// `count` pairs of distinct pixels out of `pixels`, from a fixed generator (splitmix64,
// so the pairs are the same on every platform and library version).
std::vector<PixelPair> sample_pairs(int64_t pixels, int64_t count, uint64_t seed);

// The ordinal relation of two depths: -1 (a nearer), 0 (equal within threshold), +1.
int ordinal_relation(double a, double b, double threshold);

// Ordinal agreement of two depth maps (H, W): both are min-max normalised, so the
// equality threshold is relative to each map's depth range; a pair agrees when its
// relation (<, =, >) is the same in both. Returns 1 − WHDR = agreeing / pairs (every
// pair weighted 1). InputError on a size mismatch or a pair outside the map.
double ordinal_agreement(const torch::Tensor& a, const torch::Tensor& b, const std::vector<PixelPair>& pairs,
                         double threshold);
// The same on sample_pairs(H·W, pairs, seed).
double ordinal_agreement(const torch::Tensor& a, const torch::Tensor& b, int64_t pairs, uint64_t seed,
                         double threshold);

}  // namespace dpst::eval
