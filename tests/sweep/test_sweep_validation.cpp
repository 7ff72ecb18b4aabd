// Every expanded trial is validated before anything runs; all problems come at once.
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST_F(SweepTest, AnInvalidValueInAnyAxisIsRejectedWhenLoading) {
  // Line 9 is the first axis (5 prelude lines, then sweep:, method:, axes:).
  const auto f = write_yaml(
      "sweep:\n  method: grid\n  axes:\n"
      "    loss.style_weight: [1.0e10, lots]\n"
      "    loss.depth_layers: [[output], [L9]]\n"
      "    loss.tv_weight: [0, -1.0]\n"
      "    optim.lr: [1.0e-3, 0]\n");
  const auto err = load_error({f});
  EXPECT_THAT(err, HasSubstr("4 configuration problems"));
  EXPECT_THAT(err, HasSubstr(f + ":9:33: sweep.axes.loss.style_weight: value 2: expected a number, got 'lots'"));
  EXPECT_THAT(err, HasSubstr(f + ":10:35: sweep.axes.loss.depth_layers: value 2: item 1 must be one of stem, L1, "
                                 "L2, L3, L4, output (got 'L9')"));
  EXPECT_THAT(err, HasSubstr(f + ":11:25: sweep.axes.loss.tv_weight: value 2: must be >= 0 (got -1)"));
  EXPECT_THAT(err, HasSubstr(f + ":12:24: sweep.axes.optim.lr: value 2: must be > 0 (got 0)"));
}

TEST_F(SweepTest, AMissingStyleImageInAnAxisIsRejectedBeforeARun) {
  write_file(dir / "coco.h5", "x");
  write_file(dir / "a.jpg", "x");
  const auto f = write_yaml("data:\n  path: coco.h5\nsweep:\n  method: grid\n  axes:\n"
                            "    loss.style_image: [a.jpg, missing.jpg]\n");
  EXPECT_THAT(load_error({f}, {}, 1, /*check_files=*/true),
              HasSubstr("sweep.axes.loss.style_image: file not found: " + (dir / "missing.jpg").string()));
}

TEST_F(SweepTest, ARepeatedAxisValueIsRejected) {
  const auto f = write_yaml("sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0e5, 100000]\n");
  EXPECT_THAT(load_error({f}),
              HasSubstr(f + ":9:35: sweep.axes.loss.depth_weight: value 3 (100000.0) repeats value 2"));
}

TEST_F(SweepTest, ACrossFieldViolationInOneTrialNamesThatTrial) {
  // Printing (for_run = false) accepts it; a run needs the depth network for lambda3 > 0.
  const auto base = load_sweep(
      "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0e5]\n",
      {"loss_nets.allow_random_init=false", "loss_nets.vgg16_weights=/w/vgg16.h5"});
  const auto trials = sweep::expand(base, 1, /*for_run=*/false);
  ASSERT_EQ(trials.size(), 2u);
  try {
    sweep::expand(base, 1, /*for_run=*/true);
    FAIL() << "expected ConfigProblems";
  } catch (const config::ConfigProblems& e) {
    ASSERT_EQ(e.problems().size(), 1u) << e.what();
    EXPECT_EQ(e.problems()[0].key, "loss.depth_weight");
    EXPECT_THAT(e.what(), HasSubstr("loss.depth_weight: trial " + trials[1].id +
                                    ": is > 0 but loss_nets.depth_weights is not set"));
    EXPECT_THAT(e.what(), Not(HasSubstr(trials[0].id)));
    EXPECT_EQ(e.exit_code(), kExitConfig);
  }
}

TEST_F(SweepTest, TheProblemsOfEveryTrialAreReportedAtOnce) {
  const auto base = load_sweep("sweep:\n  method: grid\n  ranks_per_trial: 2\n  axes:\n"
                               "    loss.depth_weight: [0, 1.0, 2.0]\n",
                               {}, 2);
  const auto trials = sweep::expand(base, 2, false);
  try {
    sweep::expand(base, 3, false);  // 3 ranks cannot form groups of 2
    FAIL() << "expected ConfigProblems";
  } catch (const config::ConfigProblems& e) {
    ASSERT_EQ(e.problems().size(), 3u) << e.what();
    for (const auto& t : trials) {
      EXPECT_THAT(e.what(), HasSubstr("sweep.ranks_per_trial: trial " + t.id + ": is 2 but the job has 3 ranks"));
    }
  }
}

TEST_F(SweepTest, APackWideKeyIsSweptOnlyOneTrialPerPack) {
  // A pack shares its batches and its step loop: train.iterations and run.seed (the data
  // order) cannot differ inside one. Line 9 is the first axis (5 prelude lines).
  const std::string axes = "sweep:\n  method: grid\n  axes:\n    train.iterations: [2, 4]\n    run.seed: [1, 2]\n";
  EXPECT_EQ(expand_error(load_sweep(axes)), "");
  const auto err = expand_error(load_sweep(axes, {"sweep.trials_per_pack=2"}));
  EXPECT_THAT(err, HasSubstr("sweep.yaml:9:5: sweep.axes.train.iterations: is shared by the trials of a pack and "
                             "cannot be swept with sweep.trials_per_pack 2; set sweep.trials_per_pack: 1 or leave it "
                             "out of the axes"));
  EXPECT_THAT(err, HasSubstr("sweep.axes.run.seed: is shared by the trials of a pack"));
  // Per-trial keys stay sweepable in packs.
  EXPECT_EQ(expand_error(load_sweep("sweep:\n  method: grid\n  axes:\n    optim.lr: [1.0e-3, 2.0e-4]\n",
                                    {"sweep.trials_per_pack=2"})),
            "");
}

TEST_F(SweepTest, MethodNoneIsCheckedToo) {
  EXPECT_THAT(expand_error(load_sweep("sweep:\n  ranks_per_trial: 2\n", {}, 2), 3),
              HasSubstr("sweep.ranks_per_trial: is 2 but the job has 3 ranks"));
}

TEST_F(SweepTest, ARangeAxisInAGridIsRejected) {
  const auto err = expand_error(load_sweep(
      "sweep:\n  method: grid\n  axes:\n    loss.depth_weight: [0, 1.0]\n    loss.tv_weight: {uniform: [0, 1.0]}\n"));
  EXPECT_THAT(err, HasSubstr("sweep.yaml:9:5: sweep.axes.loss.tv_weight: is a range {uniform: [lo, hi]}, which only "
                             "sweep.method: random can draw from; list the values for a grid"));
}

TEST_F(SweepTest, AGridWithTooManyTrialsIsRejected) {
  std::string values;
  for (int i = 1; i <= 60; ++i) values += (i > 1 ? ", " : "") + std::to_string(i);
  const auto base = load_sweep("sweep:\n  method: grid\n  axes:\n    model.width: [" + values +
                               "]\n    model.residual_blocks: [" + values + "]\n    train.iterations: [" + values +
                               "]\n");
  EXPECT_THAT(expand_error(base), HasSubstr("sweep.axes: the grid has more than 100000 trials; use fewer values"));
}

TEST_F(SweepTest, ASweepWithoutAxesIsRejectedByExpandToo) {
  // The loader rejects it; a Config edited in code reaches expand() without that check.
  auto base = load_sweep("");
  config::Origin here;
  here.label = "test";
  base.set("sweep.method", std::string("grid"), here);
  EXPECT_THAT(expand_error(base), HasSubstr("test: sweep.method: is grid but sweep.axes is empty; list at least one axis"));
}

}  // namespace
}  // namespace dpst::test
