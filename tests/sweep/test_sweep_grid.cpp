// Grid expansion: the documented order (first axis slowest), sizes, the trial configs.
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using Params = std::vector<std::pair<std::string, std::string>>;

TEST_F(SweepTest, MethodNoneIsOneTrialNamedRun) {
  const auto base = load_sweep("");
  const auto trials = sweep::expand(base, 1, false);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].id, "run");
  EXPECT_EQ(trials[0].method, "none");
  EXPECT_TRUE(trials[0].params.empty());
  EXPECT_EQ(trials[0].config.dump(), base.dump());
  EXPECT_EQ(sweep::trial_dir(base, trials[0]), dir / "runs" / "demo");
}

TEST_F(SweepTest, GridOrderFirstAxisVariesSlowest) {
  const auto base = load_sweep(
      "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0e5]\n"
      "    loss.tv_weight: [0, 1.0e-6, 1.0e-5]\n");
  const auto trials = sweep::expand(base, 1, false);
  ASSERT_EQ(trials.size(), 6u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"0.0", "0.0"},   {"0.0", "1.0e-6"},   {"0.0", "1.0e-5"},
      {"100000.0", "0.0"}, {"100000.0", "1.0e-6"}, {"100000.0", "1.0e-5"}};
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_THAT(trials[i].params, ElementsAre(Pair("loss.depth_weight", expected[i].first),
                                              Pair("loss.tv_weight", expected[i].second)))
        << "trial " << i;
    EXPECT_EQ(trials[i].method, "grid");
    // The trial's config holds its values.
    EXPECT_DOUBLE_EQ(trials[i].config.get_float("loss.depth_weight"), std::stod(expected[i].first));
    EXPECT_DOUBLE_EQ(trials[i].config.get_float("loss.tv_weight"), std::stod(expected[i].second));
  }
}

TEST_F(SweepTest, GridOrderFollowsTheYamlNotTheRegistry) {
  // tv_weight is declared after depth_weight in the registry, but written first here.
  const auto base = load_sweep(
      "sweep:\n  method: grid\n  axes:\n    loss.tv_weight: [0, 1.0e-6]\n    loss.depth_weight: [0, 1.0e5]\n");
  const auto trials = sweep::expand(base, 1, false);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_THAT(trials[1].params, ElementsAre(Pair("loss.tv_weight", "0.0"), Pair("loss.depth_weight", "100000.0")));
  EXPECT_THAT(trials[2].params, ElementsAre(Pair("loss.tv_weight", "1.0e-6"), Pair("loss.depth_weight", "0.0")));
}

TEST_F(SweepTest, GridIsTheProductOfEveryAxis) {
  const auto base = load_sweep(
      "sweep:\n  method: grid\n  axes:\n    loss.style_image: [a.jpg, b.jpg]\n"
      "    loss.style_weight: [1.0e9, 1.0e10, 1.0e11]\n    loss.depth_layers: [[output], [L2, output]]\n");
  const auto trials = sweep::expand(base, 1, false);
  ASSERT_EQ(trials.size(), 12u);
  const auto all_ids = ids(trials);
  std::set<std::string> distinct(all_ids.begin(), all_ids.end());
  EXPECT_EQ(distinct.size(), 12u);
  // Trial index = ((style * 3) + weight) * 2 + layers.
  EXPECT_EQ(trials[7].params[0].second, (dir / "b.jpg").string());
  EXPECT_EQ(trials[7].params[1].second, "1.0e9");
  EXPECT_EQ(trials[7].params[2].second, "[L2, output]");
  EXPECT_EQ(trials[7].config.get_path("loss.style_image"), dir / "b.jpg");
  EXPECT_EQ(trials[7].config.get_strings("loss.depth_layers"), (std::vector<std::string>{"L2", "output"}));
}

TEST_F(SweepTest, TrialConfigRunsAloneAndTheBaseIsUnchanged) {
  const auto base = load_sweep(
      "loss:\n  depth_weight: 7.0\nsweep:\n  method: grid\n  trials_per_pack: 2\n  axes:\n"
      "    loss.depth_weight: [0, 1.0e5]\n");
  const std::string base_dump = base.dump();
  const auto trials = sweep::expand(base, 1, false);
  ASSERT_EQ(trials.size(), 2u);
  // Setting a trial's values must not reach the base.
  EXPECT_EQ(base.dump(), base_dump);
  EXPECT_DOUBLE_EQ(base.get_float("loss.depth_weight"), 7.0);
  const auto& c = trials[1].config;
  EXPECT_EQ(c.get_string("sweep.method"), "none");
  EXPECT_TRUE(c.sweep_axes().empty());
  EXPECT_TRUE(c.sweep().axes.empty());
  EXPECT_EQ(c.sweep().method, "none");
  EXPECT_DOUBLE_EQ(c.loss().depth_weight, 1.0e5);  // the typed section follows set()
  EXPECT_EQ(c.get_int("sweep.num_trials"), 0);
  EXPECT_EQ(c.get_int("sweep.trials_per_pack"), 2);
  EXPECT_EQ(c.origin("sweep.method").to_string(), "sweep trial " + trials[1].id);
  EXPECT_EQ(c.origin("loss.depth_weight").to_string(), base.origin("sweep.axes").to_string());
  // Its config.yaml loads alone, with the trial's value, and dumps to the same text.
  const auto dumped = dir / "trial.yaml";
  write_file(dumped, c.dump());
  const auto again = load_ok({dumped.string()});
  EXPECT_EQ(again.dump(), c.dump());
  EXPECT_DOUBLE_EQ(again.get_float("loss.depth_weight"), 1e5);
  EXPECT_EQ(sweep::trial_dir(base, trials[1]), dir / "runs" / "demo" / trials[1].id);
}

}  // namespace
}  // namespace dpst::test
