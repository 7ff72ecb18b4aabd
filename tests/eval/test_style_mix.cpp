// eval/style_mix.h (dpst-stylize --style) and stylizing with a model of several styles:
// one style, a blend, or one output per style.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "common/errors.h"
#include "data/image_io.h"
#include "eval/style_mix.h"
#include "eval/stylize.h"
#include "eval/stylize_files.h"
#include "models/det_init.h"
#include "models/transform_net.h"
#include "support/support.h"

namespace dpst::eval {
namespace {

const std::vector<std::string> kNames = {"candy", "mosaic", "wave"};

TEST(StyleMix, NoChoiceIsEveryStyleOneHot) {
  const auto mixes = parse_style_mixes("", kNames);
  ASSERT_EQ(mixes.size(), 3u);
  for (size_t s = 0; s < 3; ++s) {
    EXPECT_EQ(mixes[s].label, kNames[s]);
    EXPECT_EQ(mixes[s].weights.sum().item<float>(), 1.0f);
    EXPECT_EQ(mixes[s].weights[static_cast<int64_t>(s)].item<float>(), 1.0f);
  }
}

TEST(StyleMix, ANameAndAWeightOfOneAreTheSameStyle) {
  const auto plain = parse_style_mixes("mosaic", kNames), weighted = parse_style_mixes("mosaic=1", kNames);
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_TRUE(torch::equal(plain[0].weights, torch::tensor({0.0f, 1.0f, 0.0f})));
  EXPECT_TRUE(torch::equal(plain[0].weights, weighted[0].weights));
  // And so is their stylized photo.
  models::TransformNet net(models::TransformNetOptions{8, 1, 3});
  models::det_init(*net, 3);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto photo = torch::rand({1, 3, 20, 28});
  const StylizeOptions options;
  EXPECT_TRUE(torch::equal(stylize(*models::blended(*net, plain[0].weights), photo, options),
                           stylize(*models::blended(*net, weighted[0].weights), photo, options)));
}

TEST(StyleMix, ABlendIsScaledToSumToOne) {
  const auto mix = parse_style_mixes("candy=0.7,wave=0.3", kNames);
  ASSERT_EQ(mix.size(), 1u);
  EXPECT_EQ(mix[0].label, "candy0.7-wave0.3");
  EXPECT_TRUE(torch::allclose(mix[0].weights, torch::tensor({0.7f, 0.0f, 0.3f})));
  EXPECT_TRUE(torch::equal(parse_style_mixes("candy=2,wave=2", kNames)[0].weights, torch::tensor({0.5f, 0.0f, 0.5f})));
}

TEST(StyleMix, EachMistakeIsOneLineNamingIt) {
  auto message = [](const std::string& spec) {
    try {
      parse_style_mixes(spec, kNames);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("starry"), ::testing::HasSubstr("no style 'starry' in this model (it has: candy, mosaic, wave)"));
  EXPECT_THAT(message("candy=-1"), ::testing::HasSubstr("the weight of 'candy' must be a number >= 0, got '-1'"));
  EXPECT_THAT(message("candy=lots"), ::testing::HasSubstr("got 'lots'"));
  EXPECT_THAT(message("candy,candy=0.5"), ::testing::HasSubstr("'candy' is given twice"));
  EXPECT_THAT(message("candy=0,wave=0"), ::testing::HasSubstr("the weights sum to 0"));
}

TEST(StyleMix, EveryStyleGetsItsOwnNamedOutput) {
  test::TempDir tmp;
  std::filesystem::create_directories(tmp / "in");
  std::filesystem::create_directories(tmp / "out");
  data::save_image(cv::Mat(16, 24, CV_8UC3, cv::Scalar(40, 120, 200)), tmp / "in" / "a.png");
  models::TransformNet net(models::TransformNetOptions{8, 1, 3});
  models::det_init(*net, 3);
  std::vector<LabelledNet> nets;
  for (const auto& mix : parse_style_mixes("", kNames)) nets.push_back({mix.label, models::blended(*net, mix.weights)});
  StylizeFilesOptions options;
  options.output = tmp / "out";
  std::ostringstream progress;
  const auto r = stylize_files(nets, list_inputs(tmp / "in"), options, progress);
  EXPECT_EQ(r.done, 1);
  for (const auto& name : kNames) EXPECT_TRUE(std::filesystem::exists(tmp / "out" / ("a-" + name + ".png"))) << name;
  EXPECT_FALSE(std::filesystem::exists(tmp / "out" / "a.png"));
}

}  // namespace
}  // namespace dpst::eval
