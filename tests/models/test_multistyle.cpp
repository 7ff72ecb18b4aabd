// models/transform_net.h with several styles (conditional instance norm): one style is
// today's TransformerNet; each row of an N-style net is a one-style net (blended); blends
// weight the rows; only the rows of the batch's styles learn; the weight file keeps the
// style names.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "common/errors.h"
#include "models/det_init.h"
#include "models/loss_nets.h"
#include "models/transform_net.h"

namespace dpst::models {
namespace {

torch::Tensor one_hot(int64_t n, int64_t s) {
  auto w = torch::zeros({n});
  w[s] = 1.0f;
  return w;
}

torch::Tensor photo_like(int64_t b, int64_t h, int64_t w) {
  torch::manual_seed(static_cast<uint64_t>(b * 100 + h + w));
  return (0.5 * torch::rand({b, 3, h, w}) + 0.5 * torch::linspace(0, 1, w).view({1, 1, 1, w})).clamp(0, 1);
}

TEST(MultiStyle, AOneStyleNetIsTodaysTransformNetBitForBit) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  TransformNet today(TransformNetOptions{8, 1});
  torch::manual_seed(5);
  TransformNet one(TransformNetOptions{8, 1, 1});
  const auto a = today->named_parameters(), b = one->named_parameters();
  ASSERT_EQ(a.keys(), b.keys());
  for (const auto& item : a) EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
  const auto x = photo_like(2, 32, 24);
  EXPECT_TRUE(torch::equal(today->forward(x), one->forward(x)));
  EXPECT_TRUE(torch::equal(today->forward(x), one->forward(x, torch::ones({1, 1}))));
}

TEST(MultiStyle, EachRowOfAManyStyleNetIsAOneStyleNet) {
  torch::NoGradGuard no_grad;
  TransformNet net(TransformNetOptions{8, 2, 3});
  det_init(*net, 4);
  EXPECT_EQ(net->named_parameters()["in1.weight"].sizes(), (std::vector<int64_t>{3, 8}));
  const auto x = photo_like(1, 32, 24);
  for (int64_t s = 0; s < 3; ++s) {
    TransformNet row = blended(*net, one_hot(3, s));
    EXPECT_EQ(row->options().styles, 1);
    EXPECT_TRUE(torch::equal(row->named_parameters()["res2.in2.weight"], net->named_parameters()["res2.in2.weight"][s]));
    EXPECT_TRUE(torch::equal(net->forward(x, one_hot(3, s).view({1, 3})), row->forward(x))) << "style " << s;
  }
  // A batch mixing styles: each element as its own style's net computes it.
  const auto batch = photo_like(2, 32, 24);
  const auto weights = torch::stack({one_hot(3, 2), one_hot(3, 0)});
  const auto y = net->forward(batch, weights);
  const auto y0 = blended(*net, one_hot(3, 2))->forward(batch.narrow(0, 0, 1))[0];
  const auto y1 = blended(*net, one_hot(3, 0))->forward(batch.narrow(0, 1, 1))[0];
  // (Within rounding: oneDNN's convs sum a batch of 2 in another order than a batch of 1;
  // 4.5e-6 measured on outputs reaching 3.6.)
  EXPECT_TRUE(torch::allclose(y[0], y0, 1e-5, 2e-5));
  EXPECT_TRUE(torch::allclose(y[1], y1, 1e-5, 2e-5));
  // A net of several styles does not guess which.
  EXPECT_THROW(net->forward(x), InputError);
  EXPECT_THROW(net->forward(x, torch::ones({1, 2})), InputError);
}

TEST(MultiStyle, AHalfHalfBlendUsesTheMeanOfTheTwoRows) {
  torch::NoGradGuard no_grad;
  TransformNet net(TransformNetOptions{8, 1, 3});
  det_init(*net, 9);
  const auto w = torch::tensor({0.5f, 0.0f, 0.5f});
  TransformNet mix = blended(*net, w);
  const auto rows = net->named_parameters();
  for (const auto& item : mix->named_parameters()) {
    const torch::Tensor& from = rows[item.key()];
    const torch::Tensor expected = from.dim() == 2 ? (from[0] + from[2]) / 2 : from;
    EXPECT_TRUE(torch::equal(item.value(), expected)) << item.key();
  }
  const auto x = photo_like(1, 32, 24);
  EXPECT_TRUE(torch::allclose(mix->forward(x), net->forward(x, w.view({1, 3})), 1e-5, 1e-6));
}

TEST(MultiStyle, OnlyTheRowsOfTheBatchsStylesLearn) {
  TransformNet net(TransformNetOptions{8, 1, 3});
  det_init(*net, 2);
  const auto x = photo_like(2, 32, 24);
  net->forward(x, torch::stack({one_hot(3, 1), one_hot(3, 1)})).pow(2).mean().backward();
  for (const char* name : {"in1.weight", "in1.bias", "res1.in1.weight", "in5.weight"}) {
    const torch::Tensor g = net->named_parameters()[name].grad();
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_EQ(g[0].abs().max().item<float>(), 0.0f) << name;
    EXPECT_GT(g[1].abs().max().item<float>(), 0.0f) << name;
    EXPECT_EQ(g[2].abs().max().item<float>(), 0.0f) << name;
  }
}

TEST(MultiStyle, TheWeightFileKeepsTheStyleNames) {
  const auto dir = std::filesystem::temp_directory_path() / "dpst_test_multistyle";
  std::filesystem::create_directories(dir);
  TransformNet net(TransformNetOptions{8, 1, 3});
  det_init(*net, 1);
  export_transform_net(*net, dir / "m.h5", "test", {"candy", "mosaic", "wave"});
  std::vector<std::string> names;
  TransformNet back = load_transform_net(dir / "m.h5", &names);
  EXPECT_EQ(names, (std::vector<std::string>{"candy", "mosaic", "wave"}));
  EXPECT_EQ(back->options().styles, 3);
  for (const auto& item : net->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), back->named_parameters()[item.key()])) << item.key();
  // A one-style file names none.
  TransformNet one(TransformNetOptions{8, 1});
  export_transform_net(*one, dir / "one.h5", "test");
  load_transform_net(dir / "one.h5", &names);
  EXPECT_TRUE(names.empty());
  // Names are what --style reads: every row named, no ',' or '='.
  EXPECT_THROW(export_transform_net(*net, dir / "bad.h5", "test", {"a", "b"}), InternalError);
  EXPECT_THROW(export_transform_net(*net, dir / "bad.h5", "test", {"a", "b=c", "d"}), InputError);
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.h5"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dpst::models
