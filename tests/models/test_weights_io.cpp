// Acceptance 4: broken weight files each give the documented error, naming the file and
// listing every problem at once; loss networks refuse to start without weights.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>

#include <fstream>

#include "common/errors.h"
#include "models/models.h"
#include "support/support.h"

namespace dpst {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

models::TransformNet small_net() { return models::TransformNet(models::TransformNetOptions{2, 1}); }

using State = std::vector<std::pair<std::string, torch::Tensor>>;

State good_state() {
  auto net = small_net();
  models::det_init(*net, 5);
  return models::named_state(*net);
}

// Writes one extra dataset of any HDF5 type (the C++ writer only writes float32/int64).
void add_float64_dataset(const fs::path& file, const std::string& name, std::vector<hsize_t> dims) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hsize_t n = 1;
  for (auto d : dims) n *= d;
  std::vector<double> data(n, 0.5);
  hid_t d = H5Dcreate2(f, name.c_str(), H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), 0);
  H5Dclose(d);
  H5Sclose(space);
  H5Fclose(f);
}

std::string load_error(const fs::path& path) {
  auto net = small_net();
  try {
    models::load_weights(*net, path, "transform");
  } catch (const InputError& e) {
    EXPECT_EQ(e.exit_code(), kExitInput);
    return e.what();
  }
  ADD_FAILURE() << "no InputError for " << path;
  return "";
}

State without(State s, const std::string& name) {
  s.erase(std::remove_if(s.begin(), s.end(), [&](const auto& p) { return p.first == name; }), s.end());
  return s;
}

TEST(WeightFiles, RoundTripIsExact) {
  test::TempDir dir;
  auto a = small_net();
  models::det_init(*a, 11);
  models::save_weights(*a, dir / "w.h5", {{"network", "transform"}});
  auto b = small_net();
  const auto info = models::load_weights(*b, dir / "w.h5", "transform");
  EXPECT_EQ(info.attribute("network"), "transform");
  EXPECT_EQ(info.attribute("format"), "dpst-weights-1");
  for (const auto& [name, t] : models::named_state(*a)) EXPECT_TRUE(torch::equal(t, b->named_parameters()[name]));
  // No temporary is left beside it: the folder holds exactly the weight file.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(WeightFiles, BatchNormBuffersRoundTrip) {
  test::TempDir dir;
  models::ConvBn a(3, 4, 3, true), b(3, 4, 3, true);
  models::det_init(*a, 3);
  models::save_weights(*a, dir / "bn.h5", {});
  models::load_weights(*b, dir / "bn.h5", "convbn");
  EXPECT_TRUE(torch::equal(a->named_buffers()["bn.running_var"], b->named_buffers()["bn.running_var"]));
  EXPECT_EQ(b->named_buffers()["bn.num_batches_tracked"].scalar_type(), torch::kInt64);
}

TEST(WeightFiles, MissingKey) {
  test::TempDir dir;
  models::write_tensors(dir / "missing.h5", without(good_state(), "in1.weight"), {});
  const std::string msg = load_error(dir / "missing.h5");
  EXPECT_THAT(msg, HasSubstr((dir / "missing.h5").string()));
  EXPECT_THAT(msg, HasSubstr("missing keys (1):\n    in1.weight"));
}

TEST(WeightFiles, UnexpectedKey) {
  test::TempDir dir;
  State s = good_state();
  s.emplace_back("res9.conv1.conv2d.weight", torch::zeros({2, 2, 3, 3}));
  models::write_tensors(dir / "extra.h5", s, {});
  const std::string msg = load_error(dir / "extra.h5");
  EXPECT_THAT(msg, HasSubstr((dir / "extra.h5").string()));
  EXPECT_THAT(msg, HasSubstr("unexpected keys (1):\n    res9.conv1.conv2d.weight"));
}

TEST(WeightFiles, WrongShape) {
  test::TempDir dir;
  State s = without(good_state(), "conv1.conv2d.weight");
  s.emplace_back("conv1.conv2d.weight", torch::zeros({2, 3, 3, 3}));
  models::write_tensors(dir / "shape.h5", s, {});
  const std::string msg = load_error(dir / "shape.h5");
  EXPECT_THAT(msg, HasSubstr((dir / "shape.h5").string()));
  EXPECT_THAT(msg, HasSubstr("shape mismatches (1):\n    conv1.conv2d.weight: (2, 3, 3, 3) in the file, "
                             "(2, 3, 9, 9) expected"));
}

TEST(WeightFiles, WrongDtype) {
  test::TempDir dir;
  models::write_tensors(dir / "dtype.h5", without(good_state(), "in2.bias"), {});
  add_float64_dataset(dir / "dtype.h5", "in2.bias", {4});
  const std::string msg = load_error(dir / "dtype.h5");
  EXPECT_THAT(msg, HasSubstr((dir / "dtype.h5").string()));
  EXPECT_THAT(msg, HasSubstr("dtype mismatches (1):\n    in2.bias: float64 in the file, float32 expected"));
  EXPECT_THAT(msg, Not(HasSubstr("shape mismatches")));
}

TEST(WeightFiles, EveryProblemInOneError) {
  test::TempDir dir;
  State s = without(without(without(good_state(), "in1.weight"), "conv1.conv2d.weight"), "in2.bias");
  s.emplace_back("conv1.conv2d.weight", torch::zeros({1}));
  s.emplace_back("stray", torch::zeros({1}));
  models::write_tensors(dir / "all.h5", s, {});
  add_float64_dataset(dir / "all.h5", "in2.bias", {4});
  auto net = small_net();
  const torch::Tensor before = net->named_parameters()["in2.weight"].clone();
  const std::string msg = load_error(dir / "all.h5");
  EXPECT_THAT(msg, HasSubstr("(4 problems)"));
  EXPECT_THAT(msg, HasSubstr("missing keys (1):\n    in1.weight"));
  EXPECT_THAT(msg, HasSubstr("unexpected keys (1):\n    stray"));
  EXPECT_THAT(msg, HasSubstr("shape mismatches (1):\n    conv1.conv2d.weight: (1,) in the file"));
  EXPECT_THAT(msg, HasSubstr("dtype mismatches (1):\n    in2.bias: float64"));
  // A failed load leaves the module untouched.
  try {
    models::load_weights(*net, dir / "all.h5", "transform");
  } catch (const InputError&) {
  }
  EXPECT_TRUE(torch::equal(before, net->named_parameters()["in2.weight"]));
}

TEST(WeightFiles, TruncatedFile) {
  test::TempDir dir;
  auto net = small_net();
  models::save_weights(*net, dir / "good.h5", {});
  const auto size = fs::file_size(dir / "good.h5");
  fs::copy_file(dir / "good.h5", dir / "cut.h5");
  fs::resize_file(dir / "cut.h5", size / 2);
  const std::string msg = load_error(dir / "cut.h5");
  EXPECT_THAT(msg, HasSubstr("cannot read weight file '" + (dir / "cut.h5").string() + "'"));
  EXPECT_THAT(msg, HasSubstr("truncated"));
}

TEST(WeightFiles, MissingAndNonHdf5Files) {
  test::TempDir dir;
  EXPECT_THAT(load_error(dir / "nope.h5"), HasSubstr("weight file '" + (dir / "nope.h5").string() + "' does not exist"));
  test::write_file(dir / "text.h5", "not hdf5\n");
  EXPECT_THAT(load_error(dir / "text.h5"), HasSubstr("not a readable HDF5 file"));
}

TEST(WeightFiles, WrongNetworkAttribute) {
  test::TempDir dir;
  models::Hourglass hg;
  models::det_init(*hg, 1);
  models::save_weights(*hg, dir / "hg.h5", {{"network", "hourglass"}});
  // Loading a hourglass file as VGG16 fails on keys, listing them.
  try {
    models::load_vgg16({dir / "hg.h5", false, "loss_nets.vgg16_weights"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("missing keys (20):"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("features.0.weight"));
  }
}

TEST(LossNets, RefuseToStartWithoutWeights) {
  try {
    models::load_vgg16({"", false, "loss_nets.vgg16_weights"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("set loss_nets.vgg16_weights"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("loss_nets.allow_random_init: true"));
  }
  try {
    models::load_hourglass({"", false, "loss_nets.depth_weights"});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("set loss_nets.depth_weights"));
  }
}

TEST(LossNets, RandomInitWhenAllowedIsFlaggedAndDeterministic) {
  auto a = models::load_hourglass({"", true, "loss_nets.depth_weights"});
  auto b = models::load_hourglass({"", true, "loss_nets.depth_weights"});
  EXPECT_TRUE(a.provenance.random_init);
  EXPECT_THAT(a.provenance.source, HasSubstr("random init"));
  for (const auto& p : a.net->parameters()) EXPECT_FALSE(p.requires_grad());
  const auto pa = models::named_state(*a.net), pb = models::named_state(*b.net);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i].second, pb[i].second)) << pa[i].first;
  models::LossNets nets;
  nets.vgg = models::load_vgg16({"", true, "loss_nets.vgg16_weights"});
  EXPECT_TRUE(nets.random_init());
}

TEST(LossNets, TransformFileFor0To255ImagesIsRefused) {
  test::TempDir dir;
  auto net = small_net();
  models::save_weights(*net, dir / "fw.h5", {{"network", "transform"}, {"preprocessing", "rgb_0_255"}});
  try {
    models::load_transform_net(dir / "fw.h5");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("rgb_0_255"));
  }
}

}  // namespace
}  // namespace dpst
