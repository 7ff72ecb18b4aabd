// The published depth weights: Chen et al.'s hourglass3 as Torch7 .t7 (convert_weights.py
// hourglass-t7) and MegaDepth's PyTorch state dict (hourglass-megadepth). The sources are
// the seeded hourglass3 of make_golden.py (LUA_LEVELS, read off hourglass3.lua), written at
// test time; hourglass_lua_taps.h5 holds the PyTorch forward of that tree, so parity goes
// through the whole chain: writer -> converter -> dpst-weights features.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <iostream>

#include "common/errors.h"
#include "models/depth_sources.h"
#include "models/golden.h"
#include "models/models.h"
#include "support/support.h"

namespace dpst {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// The golden input as an 8-bit PPM (make_golden.py made it 8-bit, so this is exact).
void write_golden_input(const fs::path& path) {
  const auto golden = test::read_golden("hourglass_lua_taps.h5");
  const torch::Tensor x = golden.at("input");
  const torch::Tensor img = x[0].permute({1, 2, 0}).mul(255).round().to(torch::kUInt8).contiguous();
  std::string ppm = "P6\n" + std::to_string(x.size(3)) + " " + std::to_string(x.size(2)) + "\n255\n";
  ppm.append(reinterpret_cast<const char*>(img.data_ptr<uint8_t>()), static_cast<size_t>(img.numel()));
  test::write_file(path, ppm);
}

// `dpst-weights features --net hourglass` on a converted file vs the PyTorch taps.
void expect_taps_match(const fs::path& weights, const std::string& output_key, const test::TempDir& dir,
                       const std::string& label) {
  write_golden_input(dir / "in.ppm");
  const auto r = test::run(test::bin("dpst-weights") + " features --net hourglass --weights " + weights.string() +
                           " --image " + (dir / "in.ppm").string() + " --size 16 --out " + (dir / "f.h5").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto golden = test::read_golden("hourglass_lua_taps.h5");
  const auto got = models::read_all_tensors(dir / "f.h5");
  EXPECT_TRUE(torch::equal(got.at("input"), golden.at("input")));
  for (const auto& name : models::HourglassImpl::tap_names()) {
    const torch::Tensor& want = golden.at(name == "output" ? output_key : name);
    ASSERT_TRUE(got.count(name)) << name;
    ASSERT_EQ(got.at(name).sizes(), want.sizes()) << name;
    const double err = test::rel_error(got.at(name), want);
    std::cout << label << " " << name << " " << want.sizes() << " max rel error " << err << "\n";
    EXPECT_LT(err, 1e-5) << label << " " << name;
  }
}

void expect_refused(const test::ProcessResult& r, const fs::path& out, const std::string& message) {
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(message));
  EXPECT_FALSE(fs::exists(out)) << "a refused conversion left " << out;
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
}

TEST(DepthSources, Hourglass3T7ConvertsAndMatchesPyTorchAtEveryTap) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("t7", dir / "hourglass3.t7"));
  const auto r = test::convert_depth_weights("hourglass-t7", dir / "hourglass3.t7", dir / "depth.h5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The writer stores one BatchNorm the pre-2016 way (running_std): converted, and said so.
  EXPECT_THAT(r.out, HasSubstr("1 BatchNorm layers stored running_std"));
  const auto info = models::read_weight_file_info(dir / "depth.h5");
  EXPECT_EQ(info.attribute("network"), "hourglass");
  EXPECT_EQ(info.attribute("depth_variant"), "hourglass3");
  EXPECT_EQ(info.attribute("source"), "hourglass-t7 hourglass3.t7");
  const auto check = test::run(test::bin("dpst-weights") + " check --net hourglass " + (dir / "depth.h5").string());
  EXPECT_EQ(check.exit_code, 0) << check.err;
  EXPECT_THAT(check.out, HasSubstr("5357153 parameters, preprocessing rgb_0_1, depth network hourglass3, from hourglass-t7"));
  expect_taps_match(dir / "depth.h5", "output", dir, "t7");

  // The config must name the file's variant.
  try {
    models::load_hourglass({dir / "depth.h5", false, "loss_nets.depth_weights"}, models::DepthVariant::MegaDepth);
    ADD_FAILURE() << "a hourglass3 file loaded as megadepth";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("loss_nets.depth_net is megadepth but the depth weight file '" +
                                    (dir / "depth.h5").string() + "' (loss_nets.depth_weights) holds the hourglass3 variant"));
  }
  const auto ok = models::load_hourglass({dir / "depth.h5", false, "loss_nets.depth_weights"}, models::DepthVariant::Hourglass3);
  EXPECT_EQ(ok.provenance.describe(), "hourglass3: " + (dir / "depth.h5").string() + " (from hourglass-t7 hourglass3.t7)");
}

TEST(DepthSources, MegaDepthStateDictConvertsAndMatchesPyTorchAtEveryTap) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("megadepth", dir / "best_generalization_net_G.pth"));
  const auto r = test::convert_depth_weights("hourglass-megadepth", dir / "best_generalization_net_G.pth", dir / "md.h5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto info = models::read_weight_file_info(dir / "md.h5");
  EXPECT_EQ(info.attribute("depth_variant"), "megadepth");
  EXPECT_EQ(info.attribute("source"), "hourglass-megadepth best_generalization_net_G.pth");
  // `output` is exp of MegaDepth's log depth; every other tap is the layer's own output.
  expect_taps_match(dir / "md.h5", "megadepth.output", dir, "megadepth");

  try {
    models::load_hourglass({dir / "md.h5", false, "loss_nets.depth_weights"}, models::DepthVariant::Hourglass3);
    ADD_FAILURE() << "a megadepth file loaded as hourglass3";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("loss_nets.depth_net is hourglass3 but the depth weight file"));
    EXPECT_THAT(e.what(), HasSubstr("holds the megadepth variant (its depth_variant attribute; MegaDepth's head predicts "
                                    "log depth): set loss_nets.depth_net: megadepth"));
  }
  // Without a config (dpst-weights), the file's variant is used.
  const auto loaded = models::load_hourglass({dir / "md.h5", false, "--weights"});
  EXPECT_EQ(loaded.net->variant(), models::DepthVariant::MegaDepth);
}

TEST(DepthSources, TruncatedT7IsRefusedWithoutOutput) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("t7", dir / "full.t7"));
  const std::string full = test::read_file(dir / "full.t7");
  test::write_file(dir / "half.t7", full.substr(0, full.size() / 2));
  expect_refused(test::convert_depth_weights("hourglass-t7", dir / "half.t7", dir / "half.h5"), dir / "half.h5",
                 "'" + (dir / "half.t7").string() + "': file ends inside a storage");
  // Cut inside the module tree itself (before any storage): torchfile runs out of bytes.
  test::write_file(dir / "head.t7", full.substr(0, 123));
  expect_refused(test::convert_depth_weights("hourglass-t7", dir / "head.t7", dir / "head.h5"), dir / "head.h5",
                 "cannot read '" + (dir / "head.t7").string() + "' as a Torch7 binary file (truncated or not a .t7)");
  // Not a .t7 at all.
  expect_refused(test::convert_depth_weights("hourglass-t7", test::golden_path("hourglass_lua_taps.h5"), dir / "x.h5"),
                 dir / "x.h5", "as a Torch7 binary file (truncated or not a .t7)");
}

TEST(DepthSources, T7OfAnotherNetworkIsRefused) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("t7", dir / "vgg16.t7", "--tree vgg16"));
  expect_refused(test::convert_depth_weights("hourglass-t7", dir / "vgg16.t7", dir / "v.h5"), dir / "v.h5",
                 "is not Chen et al.'s hourglass3 (relative_depth hourglass3.lua): the root module: expected "
                 "nn.Sequential (hourglass3: conv, BN, ReLU, level L4, conv) of 5 modules, found nn.Sequential of "
                 "31 modules");
}

TEST(DepthSources, T7WithOneConvOfTheWrongShapeNamesItsPath) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("t7", dir / "wrong.t7", "--tree wrong-shape"));
  // L4's pooled branch (modules[4].modules[1].modules[1]) -> L3 (its 4th module) -> L3's
  // pooled branch -> its first pre inception -> branch 1 -> the 1x1 conv.
  expect_refused(test::convert_depth_weights("hourglass-t7", dir / "wrong.t7", dir / "w.h5"), dir / "w.h5",
                 "modules[4].modules[1].modules[1].modules[4].modules[1].modules[1].modules[2].modules[1].modules[1]: "
                 "expected cudnn.SpatialConvolution 128->32 1x1 [dpst L3.pre.0.b0.conv] (nOutputPlane = 32), found "
                 "cudnn.SpatialConvolution 128->64 1x1 (nOutputPlane = 64)");
}

TEST(DepthSources, T7WhoseWeightTensorDisagreesWithItsLayerIsRefused) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("t7", dir / "bad.t7", "--tree bad-weight"));
  expect_refused(test::convert_depth_weights("hourglass-t7", dir / "bad.t7", dir / "b.h5"), dir / "b.h5",
                 "modules[4].modules[1].modules[1].modules[2].modules[4].modules[4].weight: expected shape "
                 "(32, 32, 7, 7), found shape (32, 32, 9, 9)");
}

TEST(DepthSources, MegaDepthStateDictWithAMissingKeyIsRefused) {
  test::TempDir dir;
  ASSERT_TRUE(test::make_depth_source("megadepth", dir / "md.pth", "--drop-key module.3.0.1.0.2.3.weight"));
  const auto r = test::convert_depth_weights("hourglass-megadepth", dir / "md.pth", dir / "md.h5");
  expect_refused(r, dir / "md.h5", "does not match MegaDepth's pytorch_DIW_scratch layout (1 problem(s)):");
  EXPECT_THAT(r.err, HasSubstr("missing 3.0.1.0.2.3.weight (L4.skip.0.b2.conv.weight, shape (16, 64, 7, 7))"));
  // A .t7 handed to the MegaDepth converter is not a state dict.
  ASSERT_TRUE(test::make_depth_source("t7", dir / "vgg.t7", "--tree vgg16"));
  expect_refused(test::convert_depth_weights("hourglass-megadepth", dir / "vgg.t7", dir / "t.h5"), dir / "t.h5",
                 "cannot read '" + (dir / "vgg.t7").string() + "' as a PyTorch file");
}

}  // namespace
}  // namespace dpst
