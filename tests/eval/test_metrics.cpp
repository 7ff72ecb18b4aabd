// Metric unit tests: values computed by hand (identical maps, inverted depth, constant
// images, a two-pair ordinal case) and SSIM against scikit-image on real photos.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/errors.h"
#include "data/image_io.h"
#include "eval/metrics.h"

namespace dpst::eval {
namespace {

using ::testing::HasSubstr;

// Runs f and returns the InputError message it throws ("" if none).
template <typename F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

torch::Tensor ramp(int h, int w) { return torch::arange(h * w, torch::kDouble).reshape({h, w}); }

TEST(Ssim, WindowIs11ForSigma15) { EXPECT_EQ(ssim_window(1.5), 11); }

TEST(Ssim, IdenticalImagesGiveOne) {
  torch::manual_seed(1);
  const cv::Mat a = to_mat(torch::rand({20, 23}, torch::kDouble));
  EXPECT_NEAR(ssim(a, a), 1.0, 1e-12);
}

TEST(Ssim, ConstantImagesFollowTheLuminanceTermOnly) {
  // Constant a = 0.2, b = 0.6: every variance and covariance is 0, so
  // SSIM = (2·0.2·0.6 + C1) / (0.2² + 0.6² + C1) with C1 = (0.01·1)², C2 terms cancel.
  const cv::Mat a(20, 20, CV_64F, cv::Scalar(0.2)), b(20, 20, CV_64F, cv::Scalar(0.6));
  EXPECT_NEAR(ssim(a, b), (0.24 + 1e-4) / (0.40 + 1e-4), 1e-12);
  EXPECT_NEAR(ssim(a, a), 1.0, 1e-12);
  // data_range scales the constants: C1 = (0.01·255)² on a 0-255 scale.
  const cv::Mat a8(20, 20, CV_64F, cv::Scalar(51)), b8(20, 20, CV_64F, cv::Scalar(153));
  SsimOptions o;
  o.data_range = 255;
  const double c1 = 2.55 * 2.55;
  EXPECT_NEAR(ssim(a8, b8, o), (2 * 51.0 * 153 + c1) / (51.0 * 51 + 153.0 * 153 + c1), 1e-12);
}

TEST(Ssim, ZeroImageVsConstantHasNoStructureTerm) {
  // a = 0, b = 1 (constant): (0 + C1) / (0 + 1 + C1).
  const cv::Mat a(16, 16, CV_64F, cv::Scalar(0.0)), b(16, 16, CV_64F, cv::Scalar(1.0));
  EXPECT_NEAR(ssim(a, b), 1e-4 / (1 + 1e-4), 1e-15);
}

TEST(Ssim, ErrorsNameTheProblem) {
  const cv::Mat a(20, 20, CV_64F, cv::Scalar(0)), b(20, 21, CV_64F, cv::Scalar(0)), tiny(10, 30, CV_64F);
  EXPECT_THAT(input_error([&] { ssim(a, b); }), HasSubstr("SSIM: image sizes differ (20x20 vs 21x20)"));
  EXPECT_THAT(input_error([&] { ssim(tiny, tiny); }),
              HasSubstr("SSIM: images must be at least 11x11 pixels (the Gaussian window), got 30x10"));
  const cv::Mat rgb(20, 20, CV_64FC3);
  EXPECT_THAT(input_error([&] { ssim(rgb, rgb); }), HasSubstr("expected single-channel images, got 3 and 3"));
  SsimOptions bad;
  bad.data_range = 0;
  EXPECT_THAT(input_error([&] { ssim(a, a, bad); }), HasSubstr("data_range must be > 0"));
  EXPECT_THAT(input_error([&] { to_gray(torch::zeros({4, 4})); }), HasSubstr("expected an RGB image (3, H, W)"));
  EXPECT_THAT(input_error([&] { to_mat(torch::zeros({2, 2, 2, 2})); }), HasSubstr("expected an (H, W) map"));
}

TEST(Ssim, GrayUsesSkimageLuminanceWeights) {
  torch::Tensor rgb = torch::zeros({3, 12, 12});
  rgb[0].fill_(1.0);
  EXPECT_NEAR(to_gray(rgb).at<double>(3, 4), 0.2125, 1e-12);
  rgb[1].fill_(1.0);
  rgb[2].fill_(1.0);
  EXPECT_NEAR(to_gray(rgb).at<double>(0, 0), 1.0, 1e-6);
  EXPECT_NEAR(ssim_gray(rgb, rgb), 1.0, 1e-12);
}

// The acceptance check: tests/fixtures/eval/ssim_reference.json was written by
// tests/eval/make_ssim_reference.py with skimage.metrics.structural_similarity.
TEST(Ssim, MatchesScikitImageOnRealPhotos) {
  const std::string dir = std::string(DPST_FIXTURES_DIR) + "/eval/";
  std::ifstream f(dir + "ssim_reference.json");
  ASSERT_TRUE(f.good());
  const auto doc = nlohmann::json::parse(f);
  ASSERT_EQ(doc.at("pairs").size(), 3u);
  auto load = [&](const std::string& name) {
    const cv::Mat rgb = data::decode_image(dir + name);
    torch::Tensor t = torch::empty({3, rgb.rows, rgb.cols}, torch::kUInt8);
    data::to_planar(rgb, t.data_ptr<uint8_t>());
    return t.to(torch::kDouble) / 255.0;
  };
  for (const auto& p : doc.at("pairs")) {
    const torch::Tensor a = load(p.at("a")), b = load(p.at("b"));
    ASSERT_EQ(a.size(2), p.at("width").get<int>());
    EXPECT_NEAR(ssim_gray(a, b), p.at("ssim_gray").get<double>(), 1e-4) << p.at("a");
    EXPECT_NEAR(ssim(to_mat(a[0]), to_mat(b[0])), p.at("ssim_red").get<double>(), 1e-4) << p.at("a");
    EXPECT_NEAR(ssim_gray(a, a), p.at("ssim_gray_self").get<double>(), 1e-12);
    // Far tighter than the acceptance bound: the definitions are the same, not just close.
    EXPECT_NEAR(ssim_gray(a, b), p.at("ssim_gray").get<double>(), 1e-9) << p.at("a");
  }
}

TEST(MinMax, NormalisesToUnitRangeAndConstantToZero) {
  const torch::Tensor n = minmax_normalise(torch::tensor({2.0, 4.0, 6.0}));
  EXPECT_TRUE(torch::allclose(n, torch::tensor({0.0, 0.5, 1.0}, torch::kDouble)));
  EXPECT_EQ(minmax_normalise(torch::full({3, 3}, 7.0)).abs().sum().item<double>(), 0.0);
  EXPECT_THAT(input_error([] { minmax_normalise(torch::zeros({0})); }), HasSubstr("empty map"));
}

TEST(Pearson, HandComputedValues) {
  const torch::Tensor a = torch::tensor({1.0, 2.0, 3.0});
  EXPECT_NEAR(pearson(a, a), 1.0, 1e-12);
  EXPECT_NEAR(pearson(a, 3 * a + 2), 1.0, 1e-12);
  EXPECT_NEAR(pearson(a, -a), -1.0, 1e-12);
  // da = (-1, 0, 1), db = (-1, 1, 0): Σ da·db = 1, Σ da² = Σ db² = 2 -> 0.5.
  EXPECT_NEAR(pearson(a, torch::tensor({1.0, 3.0, 2.0})), 0.5, 1e-12);
  EXPECT_TRUE(std::isnan(pearson(a, torch::full({3}, 5.0))));
  EXPECT_THAT(input_error([&] { pearson(a, torch::zeros({4})); }),
              HasSubstr("Pearson correlation: sizes differ or empty (3 vs 4 values)"));
}

TEST(DepthSsim, IdenticalAndAffineMapsGiveOne) {
  const torch::Tensor d = ramp(16, 16).sin();
  EXPECT_NEAR(depth_ssim(d, d), 1.0, 1e-12);
  EXPECT_NEAR(depth_ssim(d, 5 * d + 3), 1.0, 1e-9);  // min-max normalisation removes scale and shift
  EXPECT_LT(depth_ssim(d, -d), 0.0);                 // inverted depth is anti-correlated structure
  EXPECT_NEAR(pearson(minmax_normalise(d), minmax_normalise(-d)), -1.0, 1e-12);
}

TEST(Ordinal, RelationWithThreshold) {
  EXPECT_EQ(ordinal_relation(0.0, 1.0, 0.1), -1);
  EXPECT_EQ(ordinal_relation(1.0, 0.0, 0.1), 1);
  EXPECT_EQ(ordinal_relation(0.5, 0.55, 0.1), 0);
  EXPECT_EQ(ordinal_relation(0.5, 0.6, 0.1), 0);  // |d| <= threshold counts as equal
}

TEST(Ordinal, IdenticalMapsAgreeAndInvertedMapsDisagree) {
  const torch::Tensor d = ramp(8, 8);  // all values distinct, 1/63 apart after normalising
  EXPECT_DOUBLE_EQ(ordinal_agreement(d, d, 500, 7, 0.005), 1.0);
  EXPECT_DOUBLE_EQ(ordinal_agreement(d, -d, 500, 7, 0.005), 0.0);   // no ties: every relation flips
  EXPECT_DOUBLE_EQ(ordinal_agreement(d, 2 * d + 1, 500, 7, 0.005), 1.0);
}

TEST(Ordinal, TwoPairsByHand) {
  // a = [0 1; 2 3] -> normalised (0, 1/3, 2/3, 1); b = [0 10; 9.5 10] -> (0, 1, 0.95, 1).
  const torch::Tensor a = torch::tensor({0.0, 1.0, 2.0, 3.0}).reshape({2, 2});
  const torch::Tensor b = torch::tensor({0.0, 10.0, 9.5, 10.0}).reshape({2, 2});
  // Pair (0,1): a: 0 < 1/3, b: 0 < 1 -> agree. Pair (2,3): a: 2/3 < 1, but in b
  // |0.95 − 1| = 0.05 <= 0.1 is "equal" -> disagree. 1 − WHDR = 1/2.
  EXPECT_DOUBLE_EQ(ordinal_agreement(a, b, {{0, 1}, {2, 3}}, 0.1), 0.5);
  // With a threshold below 0.05 the second pair is "<" in both -> agree.
  EXPECT_DOUBLE_EQ(ordinal_agreement(a, b, {{0, 1}, {2, 3}}, 0.01), 1.0);
  EXPECT_THAT(input_error([&] { ordinal_agreement(a, b, {{0, 4}}, 0.1); }),
              HasSubstr("pair (0, 4) outside a map of 4 pixels"));
  EXPECT_THAT(input_error([&] { ordinal_agreement(a, b, std::vector<PixelPair>{}, 0.1); }), HasSubstr("no point pairs"));
  EXPECT_THAT(input_error([&] { ordinal_agreement(a, ramp(3, 3), {{0, 1}}, 0.1); }),
              HasSubstr("depth map sizes differ"));
  EXPECT_THAT(input_error([&] { ordinal_agreement(a, b, {{0, 1}}, -1); }), HasSubstr("threshold must be >= 0"));
}

TEST(Ordinal, PairsAreSeededDistinctAndInRange) {
  const auto p = sample_pairs(10, 1000, 42), q = sample_pairs(10, 1000, 42), r = sample_pairs(10, 1000, 43);
  bool differs = false;
  for (size_t k = 0; k < p.size(); ++k) {
    EXPECT_EQ(p[k].i, q[k].i);
    EXPECT_EQ(p[k].j, q[k].j);
    EXPECT_NE(p[k].i, p[k].j);
    EXPECT_TRUE(p[k].i >= 0 && p[k].i < 10 && p[k].j >= 0 && p[k].j < 10);
    differs = differs || p[k].i != r[k].i || p[k].j != r[k].j;
  }
  EXPECT_TRUE(differs);
  // The generator is fixed (splitmix64), not the standard library's: pin the first pair.
  EXPECT_EQ(sample_pairs(1000, 1, 0)[0].i, static_cast<int64_t>(0xE220A8397B1DCDAFULL % 1000));
  EXPECT_THAT(input_error([] { sample_pairs(1, 5, 0); }), HasSubstr("at least 2 pixels, got 1"));
  EXPECT_THAT(input_error([] { sample_pairs(4, 0, 0); }), HasSubstr("at least 1 pair, got 0"));
}

}  // namespace
}  // namespace dpst::eval
