// Acceptance 1 (losses): every term and the f_W gradient against PyTorch; the terms by
// hand on tiny tensors; a pack of trials in one batch equals the trials one by one;
// NaN/Inf stops with an error naming the term.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "losses/loss_fixture.h"

namespace dpst {
namespace {
using ::testing::HasSubstr;

TEST(LossParity, TermsAndGradientMatchPyTorch) {
  test::LossSetup s;
  models::TransformNet fw = models::load_transform_net(test::golden_path("transform_w8b2.h5"));
  const losses::TrialLoss loss = s.trial(s.weights);
  const losses::LossTerms terms = s.evaluate(loss, fw, s.golden.at("input"));
  const std::map<std::string, torch::Tensor> mine = {{"content", terms.content}, {"style", terms.style},
                                                     {"depth", terms.depth},     {"tv", terms.tv},
                                                     {"total", terms.total}};
  for (const auto& [name, value] : mine) {
    const double err = test::rel_error(value, s.golden.at("term." + name));
    std::cout << name << " loss " << value.item<double>() << " (PyTorch " << s.golden.at("term." + name).item<double>()
              << ") rel error " << err << "\n";
    EXPECT_LT(err, 1e-4) << name;
  }
  terms.total.backward();
  double worst = 0, largest = 0, noise = 0;
  int compared = 0, cancelled = 0;
  for (const auto& p : fw->parameters()) largest = std::max(largest, p.grad().abs().max().item<double>());
  for (const auto& [name, p] : models::named_state(*fw)) {
    ASSERT_TRUE(p.grad().defined()) << name;
    const torch::Tensor& ref = s.golden.at("grad." + name);
    if (test::gradient_cancelled_by_instance_norm(name)) {
      // True gradient 0: both sides must be rounding noise.
      const double g = std::max(p.grad().abs().max().item<double>(), ref.abs().max().item<double>());
      noise = std::max(noise, g / largest);
      EXPECT_LT(g, 1e-5 * largest) << name;
      ++cancelled;
      continue;
    }
    const double err = test::rel_error(p.grad(), ref);
    worst = std::max(worst, err);
    EXPECT_LT(err, 1e-4) << name;
    ++compared;
  }
  std::cout << "f_W gradient: " << compared << " tensors, worst max rel error " << worst << "; " << cancelled
            << " tensors with a true gradient of 0 (before an InstanceNorm): |grad| <= " << noise
            << " of the largest\n";
  EXPECT_EQ(compared + cancelled, 38);
  for (const auto& p : s.vgg->parameters()) EXPECT_FALSE(p.grad().defined());
  for (const auto& p : s.depth->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(LossTerms, ByHand) {
  // y = [[0, 1], [2, 4]]: horizontal diffs 1, 2 -> mean of squares 2.5; vertical 2, 3 -> 6.5.
  const torch::Tensor y = torch::tensor({0.f, 1.f, 2.f, 4.f}).view({1, 1, 2, 2});
  EXPECT_FLOAT_EQ(losses::tv_loss(y).item<float>(), 9.0f);
  // F = [[1, 2], [3, 4]] (C=2, H·W=2): F Fᵀ = [[5, 11], [11, 25]] / (2·2).
  const torch::Tensor f = torch::tensor({1.f, 2.f, 3.f, 4.f}).view({1, 2, 1, 2});
  EXPECT_TRUE(torch::allclose(losses::gram(f), torch::tensor({5.f, 11.f, 11.f, 25.f}).view({1, 2, 2}) / 4));
  const models::Taps a = {{"relu2_2", torch::ones({2, 3, 4, 4})}}, b = {{"relu2_2", torch::zeros({2, 3, 4, 4})}};
  EXPECT_FLOAT_EQ(losses::content_loss(a, b, {"relu2_2"}).item<float>(), 1.0f);
  // Style: G(a) = all-ones/... per batch element vs a zero target: mean of squares.
  const float g = 16.0f / (3 * 16);
  EXPECT_FLOAT_EQ(losses::style_loss(a, {{"relu2_2", torch::zeros({1, 3, 3})}}, {"relu2_2"}).item<float>(), g * g);
}

TEST(LossTerms, PackInOneBatchEqualsTrialsOneByOne) {
  test::LossSetup s;
  const torch::Tensor x = s.golden.at("input");
  models::TransformNet fw1(models::TransformNetOptions{8, 2}), fw2(models::TransformNetOptions{8, 2});
  models::det_init(*fw1, 21);
  models::det_init(*fw2, 22);
  losses::LossWeights w2 = s.weights;
  w2.depth = 0;  // a λ3 = 0 baseline in the same pack
  w2.style = 100;
  const losses::TrialLoss t1 = s.trial(s.weights), t2 = s.trial(w2);
  const auto vgg_taps = losses::union_of({t1.vgg_taps(), t2.vgg_taps()});
  const auto depth_taps = losses::union_of({t1.depth_taps(), t2.depth_taps()});
  const losses::Targets targets = losses::compute_targets(s.vgg, &s.depth, x, vgg_taps, depth_taps);
  const torch::Tensor y1 = fw1->forward(x), y2 = fw2->forward(x);
  const torch::Tensor both = torch::cat({y1, y2});
  const auto vgg_out = s.vgg->forward_taps(both, vgg_taps);
  const auto depth_out = s.depth->forward_taps(both, depth_taps);
  const int64_t b = x.size(0);
  const auto p1 = t1(y1, models::slice_taps(vgg_out, 0, b), models::slice_taps(depth_out, 0, b), targets);
  const auto p2 = t2(y2, models::slice_taps(vgg_out, b, b), models::slice_taps(depth_out, b, b), targets);
  const auto a1 = s.evaluate(t1, fw1, x), a2 = s.evaluate(t2, fw2, x);
  EXPECT_LT(test::rel_error(p1.total, a1.total), 1e-5);
  EXPECT_LT(test::rel_error(p2.total, a2.total), 1e-5);
  EXPECT_LT(test::rel_error(p2.depth, a2.depth), 1e-5);  // reported for the baseline too
  // The baseline's total leaves the depth term out.
  EXPECT_NEAR(p2.total.item<double>(),
              (w2.content * p2.content + w2.style * p2.style + w2.tv * p2.tv).item<double>(),
              1e-5 * p2.total.item<double>());
  (p1.total + p2.total).backward();
  for (const auto& p : fw1->parameters()) EXPECT_TRUE(p.grad().defined());
  for (const auto& p : fw2->parameters()) EXPECT_TRUE(p.grad().defined());
}

// A multi-style trial scores each image against its own style's Grams: image b's term is
// what a one-style trial of that style gives for image b alone, and the style term is
// their mean.
TEST(LossTerms, EachImageOfAMultiStyleBatchUsesItsOwnStylesGrams) {
  test::LossSetup s;
  const torch::Tensor x = s.golden.at("input");
  ASSERT_GE(x.size(0), 2);
  const torch::Tensor style_a = s.golden.at("style"), style_b = style_a.flip({3}).roll({5}, {2});
  const losses::TrialLoss multi(s.weights, s.layers, losses::style_grams(s.vgg, {style_a, style_b}, s.layers.style));
  EXPECT_EQ(multi.styles(), 2);
  const losses::TrialLoss only_a(s.weights, s.layers, losses::style_grams(s.vgg, style_a, s.layers.style));
  const losses::TrialLoss only_b(s.weights, s.layers, losses::style_grams(s.vgg, style_b, s.layers.style));
  models::TransformNet fw(models::TransformNetOptions{8, 1});
  models::det_init(*fw, 23);
  const torch::Tensor y = fw->forward(x);
  const auto vgg_out = s.vgg->forward_taps(y, multi.vgg_taps());
  const auto depth_out = s.depth->forward_taps(y, s.layers.depth);
  const losses::Targets targets = losses::compute_targets(s.vgg, &s.depth, x, multi.vgg_taps(), s.layers.depth);
  const int64_t n = x.size(0);
  const torch::Tensor style_of = torch::arange(n, torch::kLong) % 2;  // a, b, a, ...
  const auto terms = multi(y, vgg_out, depth_out, targets, style_of);
  ASSERT_TRUE(terms.style_per_image.defined());
  ASSERT_EQ(terms.style_per_image.size(0), n);
  for (int64_t b = 0; b < n; ++b) {
    const losses::Targets own =
        losses::compute_targets(s.vgg, &s.depth, x.narrow(0, b, 1), multi.vgg_taps(), s.layers.depth);
    const auto one = (b % 2 == 0 ? only_a : only_b)(y.narrow(0, b, 1), models::slice_taps(vgg_out, b, 1),
                                                    models::slice_taps(depth_out, b, 1), own);
    EXPECT_LT(test::rel_error(terms.style_per_image[b], one.style), 1e-5) << "image " << b;
  }
  EXPECT_LT(test::rel_error(terms.style, terms.style_per_image.mean()), 1e-6);
  EXPECT_FALSE(terms.style_per_image.requires_grad());
  EXPECT_TRUE(terms.style.requires_grad());
  // Without the styles of the images a multi-style loss refuses to guess.
  EXPECT_THROW(multi(y, vgg_out, depth_out, targets), InternalError);
}

TEST(LossTerms, WeightedTermWithoutFeaturesIsAnError) {
  test::LossSetup s;
  const losses::TrialLoss loss = s.trial(s.weights);
  const torch::Tensor y = torch::rand({1, 3, 32, 32});
  const auto vgg_out = s.vgg->forward_taps(y, loss.vgg_taps());
  EXPECT_THROW(loss(y, vgg_out, {}, losses::compute_targets(s.vgg, nullptr, y, loss.vgg_taps(), {})),
               InternalError);
  EXPECT_THROW(losses::TrialLoss(s.weights, {{"relu9_9"}, s.layers.style, s.layers.depth}, {}), ConfigError);
}

}  // namespace
}  // namespace dpst
