// Acceptance 3: an f_W exported by C++ loads into a Python TransformerNet-layout module
// and gives the same output. tests/models/check_export.py did the Python side once
// (loading the export of `dpst-weights init --net transform --width 8 --blocks 2
// --seed 3`, strict load_state_dict) and stored its output in transform_export_check.h5.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "models/golden.h"
#include "models/models.h"
#include "support/support.h"

namespace dpst {
namespace {
using ::testing::HasSubstr;

TEST(Export, TransformerNetKeyNames) {
  test::TempDir dir;
  models::TransformNet net;  // paper defaults
  models::export_transform_net(*net, dir / "fw.h5", "test");
  const auto tensors = models::read_all_tensors(dir / "fw.h5");
  std::vector<std::string> names;
  for (const auto& [name, t] : tensors) names.push_back(name);
  // pytorch/examples' TransformerNet state dict: 10 ConvLayers (conv2d.weight/bias),
  // 5 + 10 InstanceNorms (weight/bias), nothing else.
  EXPECT_EQ(names.size(), 2u * (3 + 10 + 3) + 2u * (5 + 10));
  for (const char* key : {"conv1.conv2d.weight", "conv1.conv2d.bias", "in1.weight", "in1.bias", "conv2.conv2d.weight",
                          "in3.bias", "res1.conv1.conv2d.weight", "res1.in1.weight", "res1.conv2.conv2d.bias",
                          "res5.in2.bias", "deconv1.conv2d.weight", "in4.weight", "deconv2.conv2d.bias", "in5.bias",
                          "deconv3.conv2d.weight", "deconv3.conv2d.bias"})
    EXPECT_TRUE(tensors.count(key)) << key;
  const auto info = models::read_weight_file_info(dir / "fw.h5");
  EXPECT_EQ(info.attribute("network"), "transform");
  EXPECT_EQ(info.attribute("preprocessing"), "rgb_0_1");
  EXPECT_EQ(info.attribute("width"), "32");
  EXPECT_EQ(info.attribute("residual_blocks"), "5");
}

TEST(Export, PythonTransformerNetGivesTheSameOutput) {
  test::TempDir dir;
  models::TransformNet net(models::TransformNetOptions{8, 2});
  models::det_init(*net, test::kSeedTransform);
  models::export_transform_net(*net, dir / "fw.h5", "test");
  // The export holds exactly the values Python checked (the same deterministic weights
  // that the converter wrote into transform_w8b2.h5, under the same names).
  const auto mine = models::read_all_tensors(dir / "fw.h5");
  const auto converted = test::read_golden("transform_w8b2.h5");
  ASSERT_EQ(mine.size(), converted.size());
  for (const auto& [name, t] : converted) {
    ASSERT_TRUE(mine.count(name)) << name;
    EXPECT_TRUE(torch::equal(mine.at(name), t)) << name;
  }
  // Reloaded from the export, f_W reproduces Python's output on the same input.
  models::TransformNet reloaded = models::load_transform_net(dir / "fw.h5");
  const auto check = test::read_golden("transform_export_check.h5");
  torch::NoGradGuard no_grad;
  const double err = test::rel_error(reloaded->forward(check.at("input")), check.at("python_output"));
  std::cout << "C++ export vs Python TransformerNet: max rel error " << err << "\n";
  EXPECT_LT(err, 1e-5);
}

TEST(Export, InferredOptionsWithoutAttributes) {
  test::TempDir dir;
  models::TransformNet net(models::TransformNetOptions{4, 3});
  models::write_tensors(dir / "bare.h5", models::named_state(*net), {});
  models::TransformNet loaded = models::load_transform_net(dir / "bare.h5");
  EXPECT_EQ(loaded->options().width, 4);
  EXPECT_EQ(loaded->options().residual_blocks, 3);
}

// dpst-weights, end to end.
TEST(Tool, CheckInfoFeaturesInit) {
  test::TempDir dir;
  const std::string tool = test::bin("dpst-weights");
  auto ok = test::run(tool + " check --net transform " + test::golden_path("transform_w8b2.h5").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("OK: "));
  EXPECT_THAT(ok.out, HasSubstr("52899 parameters"));

  auto bad = test::run(tool + " check --net vgg16 " + test::golden_path("transform_w8b2.h5").string());
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_THAT(bad.err + bad.out, HasSubstr("does not match the vgg16 network"));
  EXPECT_THAT(bad.err + bad.out, HasSubstr("missing keys (20)"));

  auto info = test::run(tool + " info --net hourglass --size 64");
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("parameters  5357153"));

  auto init = test::run(tool + " init --net hourglass --seed 2 --out " + (dir / "hg.h5").string());
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto checked = test::run(tool + " check --net hourglass " + (dir / "hg.h5").string());
  EXPECT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_THAT(checked.out, HasSubstr("RANDOM INIT"));

  // A 16x16 PNG through `features`: every hourglass tap is written.
  {
    const auto golden = test::read_golden("hourglass_taps.h5");
    const torch::Tensor img = golden.at("input")[0].permute({1, 2, 0}).mul(255).round().to(torch::kUInt8).contiguous();
    // Write a binary PPM (OpenCV reads it) to avoid depending on an encoder here.
    std::string ppm = "P6\n32 32\n255\n";
    ppm.append(reinterpret_cast<const char*>(img.data_ptr<uint8_t>()), 32 * 32 * 3);
    test::write_file(dir / "in.ppm", ppm);
  }
  auto feats = test::run(tool + " features --net hourglass --weights " + (dir / "hg.h5").string() + " --image " +
                         (dir / "in.ppm").string() + " --size 32 --out " + (dir / "f.h5").string());
  ASSERT_EQ(feats.exit_code, 0) << feats.err;
  const auto written = models::read_all_tensors(dir / "f.h5");
  for (const auto& name : models::HourglassImpl::tap_names()) EXPECT_TRUE(written.count(name)) << name;
  // Same weights (seed 2) and nearly the same input (8-bit) as the golden: close output.
  EXPECT_LT(test::rel_error(written.at("output"), test::read_golden("hourglass_taps.h5").at("output")), 0.05);

  auto missing = test::run(tool + " check --net vgg16 " + (dir / "none.h5").string());
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_THAT(missing.err + missing.out, HasSubstr("does not exist"));
}

}  // namespace
}  // namespace dpst
