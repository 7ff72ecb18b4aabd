// Acceptance 1: VGG16, hourglass and f_W against PyTorch golden outputs.
#include <gtest/gtest.h>

#include <iostream>

#include "models/models.h"
#include "models/golden.h"
#include "support/support.h"

namespace dpst {
namespace {
using models::TapNames;

TEST(Parity, Vgg16TapsMatchTorchvision) {
  const auto golden = test::read_golden("vgg16_taps.h5");
  const auto info = models::read_weight_file_info(test::golden_path("vgg16_taps.h5"));
  // The same values as torchvision's vgg16() filled by make_golden.py, written and loaded
  // strictly through the C++ HDF5 code.
  test::TempDir dir;
  models::Vgg16 source;
  models::det_init(*source, test::kSeedVgg);
  models::save_weights(*source, dir / "vgg16.h5", {{"network", "vgg16"}, {"preprocessing", "imagenet"}});
  auto loaded = models::load_vgg16({dir / "vgg16.h5", false, "loss_nets.vgg16_weights"});
  EXPECT_FALSE(loaded.provenance.random_init);
  EXPECT_EQ(models::parameter_count(*loaded.net), 7635264);
  EXPECT_EQ(info.attribute("parameter_count"), "7635264");
  const auto taps = loaded.net->forward_taps(golden.at("input"), models::Vgg16Impl::tap_names());
  ASSERT_EQ(taps.size(), 4u);
  for (const auto& name : models::Vgg16Impl::tap_names()) {
    const double err = test::rel_error(taps.at(name), golden.at(name));
    std::cout << "vgg16 " << name << " " << taps.at(name).sizes() << " max rel error " << err << "\n";
    EXPECT_LT(err, 1e-5) << name;
  }
  // Early stop: asking for relu2_2 only gives the same values.
  const auto one = loaded.net->forward_taps(golden.at("input"), {"relu2_2"});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_LT(test::rel_error(one.at("relu2_2"), golden.at("relu2_2")), 1e-5);
}

TEST(Parity, HourglassTapsMatchPyTorch) {
  const auto golden = test::read_golden("hourglass_taps.h5");
  const auto info = models::read_weight_file_info(test::golden_path("hourglass_taps.h5"));
  test::TempDir dir;
  models::Hourglass source;
  models::det_init(*source, test::kSeedHourglass);
  models::save_weights(*source, dir / "hg.h5", {{"network", "hourglass"}});
  auto loaded = models::load_hourglass({dir / "hg.h5", false, "loss_nets.depth_weights"});
  EXPECT_EQ(models::parameter_count(*loaded.net), 5357153);  // asserted in make_golden.py too
  EXPECT_EQ(info.attribute("parameter_count"), "5357153");
  const auto& names = models::HourglassImpl::tap_names();
  const auto taps = loaded.net->forward_taps(golden.at("input"), names);
  ASSERT_EQ(taps.size(), names.size());
  for (const auto& name : names) {
    const double err = test::rel_error(taps.at(name), golden.at(name));
    std::cout << "hourglass " << name << " " << taps.at(name).sizes() << " max rel error " << err << "\n";
    EXPECT_LT(err, 1e-5) << name;
  }
  for (const std::string name : {"stem", "L1", "L3"}) {
    const auto one = loaded.net->forward_taps(golden.at("input"), {name});
    ASSERT_EQ(one.size(), 1u) << name;
    EXPECT_LT(test::rel_error(one.at(name), golden.at(name)), 1e-5) << name;
  }
  // Frozen: train() keeps eval mode.
  loaded.net->train(true);
  EXPECT_FALSE(loaded.net->is_training());
}

TEST(Parity, TransformNetMatchesPyTorchFromConverterFile) {
  // transform_w8b2.h5 is dataprep/convert_weights.py's own output.
  models::TransformNet net = models::load_transform_net(test::golden_path("transform_w8b2.h5"));
  EXPECT_EQ(net->options().width, 8);
  EXPECT_EQ(net->options().residual_blocks, 2);
  EXPECT_EQ(models::parameter_count(*net), 52899);
  // The Python and C++ deterministic generators agree bit for bit.
  models::TransformNet mine(models::TransformNetOptions{8, 2});
  models::det_init(*mine, test::kSeedTransform);
  for (const auto& [name, t] : models::named_state(*mine))
    EXPECT_TRUE(torch::equal(t, net->named_parameters()[name])) << name;
  const auto golden = test::read_golden("transform_taps.h5");
  torch::NoGradGuard no_grad;
  const double err = test::rel_error(net->forward(golden.at("input")), golden.at("output"));
  std::cout << "transform (8, 2) output max rel error " << err << "\n";
  EXPECT_LT(err, 1e-5);
}

TEST(Parity, TransformNetDefaultsArePapers) {
  models::TransformNet net;
  EXPECT_EQ(models::parameter_count(*net), 1679235);
  EXPECT_EQ(models::buffer_count(*net), 0);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->forward(torch::rand({1, 3, 32, 48})).sizes(), (std::vector<int64_t>{1, 3, 32, 48}));
}

TEST(Parity, CaffePreprocessingFromKerasFile) {
  test::TempDir dir;
  models::Vgg16 source;
  models::det_init(*source, 9);
  models::save_weights(*source, dir / "keras.h5", {{"network", "vgg16"}, {"preprocessing", "caffe_bgr"}});
  auto loaded = models::load_vgg16({dir / "keras.h5", false, "loss_nets.vgg16_weights"});
  ASSERT_EQ(loaded.net->preprocessing(), models::VggPreprocessing::CaffeBgr);
  const torch::Tensor x = torch::rand({2, 3, 4, 4});
  const torch::Tensor expect =
      torch::stack({x.select(1, 2) * 255 - 103.939, x.select(1, 1) * 255 - 116.779, x.select(1, 0) * 255 - 123.68}, 1);
  EXPECT_LT(test::rel_error(loaded.net->preprocess(x), expect), 1e-6);
  models::Vgg16 imagenet;
  const torch::Tensor in = imagenet->preprocess(x);
  EXPECT_NEAR(in[0][1][0][0].item<double>(), (x[0][1][0][0].item<double>() - 0.456) / 0.224, 1e-5);
}

TEST(Parity, MacCountsAreAnalytic) {
  models::TransformNet net;
  torch::NoGradGuard no_grad;
  models::MacCounter counter;
  net->forward(torch::zeros({2, 3, 256, 256}));
  // conv1: 256²·32·3·81; conv2: 128²·64·32·9; conv3: 64²·128·64·9; 10 residual convs
  // 64²·128·128·9; deconv1: 128²·64·128·9; deconv2: 256²·32·64·9; deconv3: 256²·3·32·81.
  const double expect = 65536.0 * 32 * 3 * 81 + 16384.0 * 64 * 32 * 9 + 4096.0 * 128 * 64 * 9 +
                        10 * 4096.0 * 128 * 128 * 9 + 16384.0 * 64 * 128 * 9 + 65536.0 * 32 * 64 * 9 +
                        65536.0 * 3 * 32 * 81;
  EXPECT_DOUBLE_EQ(counter.macs_per_image(), expect);
}

}  // namespace
}  // namespace dpst
