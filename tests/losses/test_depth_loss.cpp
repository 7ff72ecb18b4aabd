// Acceptance 2: the depth loss is switched on (the seed's released code never was):
// l_depth > 0 when ŷ ≠ x, the depth term alone gives every f_W parameter tensor a
// gradient, and one Adam step with λ3 > 0 differs from one with λ3 = 0.
#include <gtest/gtest.h>

#include <iostream>

#include "losses/loss_fixture.h"

namespace dpst {
namespace {

TEST(DepthLoss, PositiveWhenOutputDiffersAndZeroWhenEqual) {
  test::LossSetup s;
  const torch::Tensor x = s.golden.at("input");
  models::TransformNet fw(models::TransformNetOptions{8, 2});
  models::det_init(*fw, test::kSeedTransform);
  torch::NoGradGuard no_grad;
  const auto target = s.depth->forward_taps(x, {"output"});
  const double d = losses::depth_loss(s.depth->forward_taps(fw->forward(x), {"output"}), target, {"output"})
                       .item<double>();
  std::cout << "l_depth(f_W(x), x) = " << d << "\n";
  EXPECT_GT(d, 0.0);
  EXPECT_EQ(losses::depth_loss(s.depth->forward_taps(x, {"output"}), target, {"output"}).item<double>(), 0.0);
}

TEST(DepthLoss, DepthTermAloneReachesEveryParameter) {
  test::LossSetup s;
  const torch::Tensor x = s.golden.at("input");
  models::TransformNet fw(models::TransformNetOptions{8, 2});
  models::det_init(*fw, test::kSeedTransform);
  for (const auto& layers : std::vector<models::TapNames>{{"output"}, {"stem", "L1", "L2", "L3", "L4", "output"}}) {
    fw->zero_grad();
    losses::LossLayers l = s.layers;
    l.depth = layers;
    const losses::TrialLoss loss({0, 0, 1.0, 0}, l, {});
    EXPECT_TRUE(loss.vgg_taps().empty());
    const auto targets = losses::compute_targets(s.vgg, &s.depth, x, {}, loss.depth_taps());
    const torch::Tensor y = fw->forward(x);
    const auto terms = loss(y, {}, s.depth->forward_taps(y, loss.depth_taps()), targets);
    ASSERT_GT(terms.total.item<double>(), 0.0);
    terms.total.backward();
    double largest = 0;
    for (const auto& p : fw->parameters()) largest = std::max(largest, p.grad().abs().max().item<double>());
    for (const auto& [name, p] : models::named_state(*fw)) {
      ASSERT_TRUE(p.grad().defined()) << name;
      const double g = p.grad().abs().max().item<double>();
      EXPECT_GT(g, 0.0) << name;
      // Tensors whose every path ends in an InstanceNorm have a true gradient of 0 for
      // any loss (golden.h); every other tensor must get a real one from depth alone.
      if (!test::gradient_cancelled_by_instance_norm(name)) {
        EXPECT_GT(g, 1e-6 * largest) << name;
      }
    }
  }
}

TEST(DepthLoss, ChangesTheAdamStep) {
  test::LossSetup s;
  const torch::Tensor x = s.golden.at("input");
  auto step = [&](double lambda3) {
    models::TransformNet fw(models::TransformNetOptions{8, 2});
    models::det_init(*fw, test::kSeedTransform);
    torch::optim::Adam adam(fw->parameters(), torch::optim::AdamOptions(1e-3));
    losses::LossWeights w = s.weights;
    w.depth = lambda3;
    const auto terms = s.evaluate(s.trial(w), fw, x);
    adam.zero_grad();
    terms.total.backward();
    adam.step();
    return torch::cat([&] {
      std::vector<torch::Tensor> flat;
      for (const auto& p : fw->parameters()) flat.push_back(p.detach().flatten());
      return flat;
    }());
  };
  const torch::Tensor with_depth = step(1.0), without = step(0.0), again = step(0.0);
  EXPECT_TRUE(torch::equal(without, again));  // deterministic: any difference is λ3's
  const int64_t differ = (with_depth != without).sum().item<int64_t>();
  std::cout << "one Adam step, lambda3=1 vs 0: " << differ << " of " << without.numel()
            << " weights differ, max |diff| " << (with_depth - without).abs().max().item<double>() << "\n";
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace dpst
