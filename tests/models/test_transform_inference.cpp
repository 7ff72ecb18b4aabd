// models/transform_inference.h: the CPU inference path computes TransformNetImpl::forward
// (same statistics modes), on any size it takes, for narrow and paper-sized f_W.
#include <gtest/gtest.h>

#include <iostream>
#include <tuple>
#include <vector>

#include "models/det_init.h"
#include "models/transform_inference.h"
#include "models/transform_net.h"

namespace dpst::models {
namespace {

TransformNet seeded_net(int64_t width, int64_t blocks, uint64_t seed) {
  TransformNet net(TransformNetOptions{width, blocks});
  det_init(*net, seed);
  net->eval();
  return net;
}

// max |a - b| after both are clamped to [0, 1] (what a saved image keeps).
double clamped_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.clamp(0, 1) - b.clamp(0, 1)).abs().max().item<double>();
}

// Each norm pass rounds as the module's norm does (InstanceNorm2d's statistics and fused
// affine in kOwn, instance_norm_with's arithmetic with given statistics) and every conv is
// the module's own conv on the same values, so the outputs are the module's bit for bit.
// (Rounding differently is not harmless: the paper-sized f_W amplifies a one-ulp change of
// one channel's scale at the first norm about a hundredfold by its output.)
TEST(TransformInference, ComputesTheModulesForwardBitForBitInEveryStatisticsMode) {
  torch::NoGradGuard no_grad;
  for (auto [width, blocks] : std::vector<std::pair<int64_t, int64_t>>{{8, 0}, {8, 2}, {16, 1}, {32, 5}}) {
    auto net = seeded_net(width, blocks, 11 + static_cast<uint64_t>(width + blocks));
    const TransformNetInference fast(*net);
    for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{8, 8}, {12, 40}, {64, 48}, {100, 76}}) {
      SCOPED_TRACE("width " + std::to_string(width) + ", " + std::to_string(blocks) + " blocks, " +
                   std::to_string(h) + "x" + std::to_string(w));
      torch::manual_seed(static_cast<uint64_t>(h * 1000 + w));
      // A photo-like input: smooth gradients plus noise, in [0, 1].
      const auto x = (0.5 * torch::rand({1, 3, h, w}) + 0.5 * torch::linspace(0, 1, w).view({1, 1, 1, w})).clamp(0, 1);
      InstanceNormStats module_stats, fast_stats;
      const auto module_recorded = net->forward(x, NormStatsMode::kRecord, module_stats);
      EXPECT_TRUE(torch::equal(fast.forward(x, NormStatsMode::kOwn, fast_stats), net->forward(x)));
      EXPECT_TRUE(torch::equal(fast.forward(x, NormStatsMode::kApply, module_stats), module_recorded));
      // kRecord: the path's own statistics (double sums rounded to float; the module's
      // var_mean rounds its own way), applied as recorded.
      const auto recorded = fast.forward(x, NormStatsMode::kRecord, fast_stats);
      EXPECT_TRUE(torch::equal(fast.forward(x, NormStatsMode::kApply, fast_stats), recorded));
      ASSERT_EQ(fast_stats.mean_var.size(), module_stats.mean_var.size());
      for (size_t k = 0; k < module_stats.mean_var.size(); ++k) {
        const auto& [m0, v0] = module_stats.mean_var[k];
        const auto& [m1, v1] = fast_stats.mean_var[k];
        EXPECT_LE((m0 - m1).abs().max().item<double>(), 1e-5 * std::max(1.0, m0.abs().max().item<double>())) << k;
        EXPECT_LE((v0 - v1).abs().max().item<double>(), 1e-5 * std::max(1.0, v0.abs().max().item<double>())) << k;
      }
      if (h >= 64) {
        EXPECT_LE(clamped_diff(recorded, module_recorded), 1e-5);
      }
    }
  }
}

TEST(TransformInference, TakesOnlyWhatItComputes) {
  EXPECT_TRUE(TransformNetInference::supports(torch::zeros({1, 3, 8, 12})));
  EXPECT_FALSE(TransformNetInference::supports(torch::zeros({2, 3, 8, 12})));   // a batch
  EXPECT_FALSE(TransformNetInference::supports(torch::zeros({1, 3, 10, 12})));  // not a multiple of 4
  EXPECT_FALSE(TransformNetInference::supports(torch::zeros({1, 3, 4, 12})));   // too small
  EXPECT_FALSE(TransformNetInference::supports(torch::zeros({1, 3, 8, 12}, torch::kDouble)));
}

}  // namespace
}  // namespace dpst::models
