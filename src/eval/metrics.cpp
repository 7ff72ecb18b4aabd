#include "eval/metrics.h"

#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "common/errors.h"

namespace dpst::eval {
namespace {

// 1-D Gaussian of scipy.ndimage.gaussian_filter1d (truncate 3.5, as skimage passes):
// exp(−x²/2σ²) for x in [−r, r], normalised to sum 1.
cv::Mat gaussian_kernel(double sigma) {
  const int radius = (ssim_window(sigma) - 1) / 2;
  cv::Mat k(2 * radius + 1, 1, CV_64F);
  double sum = 0;
  for (int x = -radius; x <= radius; ++x) {
    const double v = std::exp(-0.5 * x * x / (sigma * sigma));
    k.at<double>(x + radius) = v;
    sum += v;
  }
  return k / sum;
}

// scipy's 'reflect' mode (d c b a | a b c d) is OpenCV's BORDER_REFLECT.
cv::Mat blur(const cv::Mat& m, const cv::Mat& kernel) {
  cv::Mat out;
  cv::sepFilter2D(m, out, CV_64F, kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
  return out;
}

torch::Tensor as_double_cpu(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kDouble).contiguous(); }

// (H, W) or (1, H, W) -> (H, W), with a clear error for anything else.
torch::Tensor as_map(const torch::Tensor& t, const char* what) {
  DPST_CHECK(t.defined(), InputError, what << ": undefined tensor");
  torch::Tensor m = t;
  if (m.dim() == 3 && m.size(0) == 1) m = m.squeeze(0);
  DPST_CHECK(m.dim() == 2, InputError, what << ": expected an (H, W) map, got shape " << t.sizes());
  return as_double_cpu(m);
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace

int ssim_window(double sigma) { return 2 * static_cast<int>(3.5 * sigma + 0.5) + 1; }

double ssim(const cv::Mat& a_in, const cv::Mat& b_in, const SsimOptions& o) {
  DPST_CHECK(a_in.channels() == 1 && b_in.channels() == 1, InputError,
             "SSIM: expected single-channel images, got " << a_in.channels() << " and " << b_in.channels()
                                                           << " channels");
  DPST_CHECK(a_in.size() == b_in.size(), InputError,
             "SSIM: image sizes differ (" << a_in.cols << "x" << a_in.rows << " vs " << b_in.cols << "x" << b_in.rows
                                          << ")");
  const int win = ssim_window(o.sigma);
  DPST_CHECK(a_in.rows >= win && a_in.cols >= win, InputError,
             "SSIM: images must be at least " << win << "x" << win << " pixels (the Gaussian window), got "
                                              << a_in.cols << "x" << a_in.rows);
  DPST_CHECK(o.data_range > 0, InputError, "SSIM: data_range must be > 0, got " << o.data_range);
  cv::Mat a, b;
  a_in.convertTo(a, CV_64F);
  b_in.convertTo(b, CV_64F);
  const cv::Mat k = gaussian_kernel(o.sigma);
  const cv::Mat ux = blur(a, k), uy = blur(b, k);
  const cv::Mat uxx = blur(a.mul(a), k), uyy = blur(b.mul(b), k), uxy = blur(a.mul(b), k);
  // Population covariance (use_sample_covariance=False): no N/(N−1) factor.
  const cv::Mat vx = uxx - ux.mul(ux), vy = uyy - uy.mul(uy), vxy = uxy - ux.mul(uy);
  const double c1 = (o.k1 * o.data_range) * (o.k1 * o.data_range);
  const double c2 = (o.k2 * o.data_range) * (o.k2 * o.data_range);
  cv::Mat num = (2 * ux.mul(uy) + c1).mul(2 * vxy + c2);
  cv::Mat den = (ux.mul(ux) + uy.mul(uy) + c1).mul(vx + vy + c2);
  cv::Mat s;
  cv::divide(num, den, s);
  // skimage averages only where the whole window lies inside the image.
  const int pad = (win - 1) / 2;
  const cv::Mat inner = s(cv::Rect(pad, pad, s.cols - 2 * pad, s.rows - 2 * pad));
  return cv::mean(inner)[0];
}

cv::Mat to_mat(const torch::Tensor& map) {
  const torch::Tensor m = as_map(map, "to_mat");
  cv::Mat out(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_64F);
  std::memcpy(out.data, m.data_ptr<double>(), sizeof(double) * m.numel());
  return out;
}

cv::Mat to_gray(const torch::Tensor& rgb) {
  DPST_CHECK(rgb.defined() && rgb.dim() == 3 && rgb.size(0) == 3, InputError,
             "grayscale: expected an RGB image (3, H, W), got shape " << (rgb.defined() ? rgb.sizes() : c10::IntArrayRef{}));
  const torch::Tensor x = as_double_cpu(rgb);
  return to_mat(0.2125 * x[0] + 0.7154 * x[1] + 0.0721 * x[2]);
}

double ssim_gray(const torch::Tensor& a, const torch::Tensor& b) { return ssim(to_gray(a), to_gray(b), {}); }

torch::Tensor minmax_normalise(const torch::Tensor& depth) {
  const torch::Tensor d = as_double_cpu(depth);
  DPST_CHECK(d.numel() > 0, InputError, "min-max normalisation of an empty map");
  const double lo = d.min().item<double>(), hi = d.max().item<double>();
  if (!(hi > lo)) return torch::zeros_like(d);
  return (d - lo) / (hi - lo);
}

double pearson(const torch::Tensor& a_in, const torch::Tensor& b_in) {
  DPST_CHECK(a_in.defined() && b_in.defined() && a_in.numel() == b_in.numel() && a_in.numel() > 0, InputError,
             "Pearson correlation: sizes differ or empty (" << a_in.numel() << " vs " << b_in.numel()
                                                            << " values)");
  const torch::Tensor a = as_double_cpu(a_in).flatten(), b = as_double_cpu(b_in).flatten();
  const torch::Tensor da = a - a.mean(), db = b - b.mean();
  const double saa = (da * da).sum().item<double>(), sbb = (db * db).sum().item<double>();
  if (!(saa > 0) || !(sbb > 0)) return std::nan("");
  return (da * db).sum().item<double>() / std::sqrt(saa * sbb);
}

double depth_ssim(const torch::Tensor& a, const torch::Tensor& b) {
  return ssim(to_mat(minmax_normalise(as_map(a, "depth SSIM"))), to_mat(minmax_normalise(as_map(b, "depth SSIM"))),
              {});
}

std::vector<PixelPair> sample_pairs(int64_t pixels, int64_t count, uint64_t seed) {
  DPST_CHECK(pixels >= 2, InputError, "ordinal agreement needs at least 2 pixels, got " << pixels);
  DPST_CHECK(count >= 1, InputError, "ordinal agreement needs at least 1 pair, got " << count);
  std::vector<PixelPair> out(static_cast<size_t>(count));
  uint64_t state = seed;
  const auto n = static_cast<uint64_t>(pixels);
  for (auto& p : out) {
    // Modulo bias is < pixels / 2^64: irrelevant, and keeps the draw portable.
    p.i = static_cast<int64_t>(splitmix64(state) % n);
    int64_t j = static_cast<int64_t>(splitmix64(state) % (n - 1));
    p.j = j >= p.i ? j + 1 : j;  // distinct from i, uniform over the others
  }
  return out;
}

int ordinal_relation(double a, double b, double threshold) {
  const double d = a - b;
  if (std::abs(d) <= threshold) return 0;
  return d < 0 ? -1 : 1;
}

double ordinal_agreement(const torch::Tensor& a_in, const torch::Tensor& b_in, const std::vector<PixelPair>& pairs,
                         double threshold) {
  const torch::Tensor a = as_map(a_in, "ordinal agreement"), b = as_map(b_in, "ordinal agreement");
  DPST_CHECK(a.sizes() == b.sizes(), InputError,
             "ordinal agreement: depth map sizes differ (" << a.sizes() << " vs " << b.sizes() << ")");
  DPST_CHECK(!pairs.empty(), InputError, "ordinal agreement: no point pairs");
  DPST_CHECK(threshold >= 0, InputError, "ordinal agreement: threshold must be >= 0, got " << threshold);
  const torch::Tensor na = minmax_normalise(a), nb = minmax_normalise(b);
  const double* pa = na.data_ptr<double>();
  const double* pb = nb.data_ptr<double>();
  const int64_t n = na.numel();
  int64_t agree = 0;
  for (const auto& p : pairs) {
    DPST_CHECK(p.i >= 0 && p.i < n && p.j >= 0 && p.j < n, InputError,
               "ordinal agreement: pair (" << p.i << ", " << p.j << ") outside a map of " << n << " pixels");
    if (ordinal_relation(pa[p.i], pa[p.j], threshold) == ordinal_relation(pb[p.i], pb[p.j], threshold)) ++agree;
  }
  return static_cast<double>(agree) / static_cast<double>(pairs.size());
}

double ordinal_agreement(const torch::Tensor& a, const torch::Tensor& b, int64_t pairs, uint64_t seed,
                         double threshold) {
  const torch::Tensor m = as_map(a, "ordinal agreement");
  return ordinal_agreement(a, b, sample_pairs(m.numel(), pairs, seed), threshold);
}

}  // namespace dpst::eval
