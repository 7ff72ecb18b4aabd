// Random search: reproducible for a seed, ranges honoured, duplicates handled.
#include <cmath>

#include "sweep/random_draw.h"
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;

const char* kRandom =
    "sweep:\n  method: random\n  num_trials: 8\n  axes:\n"
    "    loss.style_image: [a.jpg, b.jpg, c.jpg]\n"
    "    loss.depth_weight: {log_uniform: [1.0e3, 1.0e6]}\n"
    "    loss.tv_weight: {uniform: [0, 1.0e-5]}\n"
    "    model.residual_blocks: {uniform: [1, 9]}\n";

TEST(SweepSplitMix64, MatchesTheReferenceOutput) {
  // The first outputs of splitmix64 seeded with 0 (Vigna's reference implementation).
  sweep::SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafull);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(rng.next(), 0x06c45d188009454full);
}

TEST(SweepSplitMix64, BelowStaysInRangeAndRejectsZero) {
  sweep::SplitMix64 rng(1);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(rng.below(3), 3u);
  EXPECT_THROW(rng.below(0), InternalError);
  EXPECT_DOUBLE_EQ(sweep::round_significant(0.000123456, 4), 0.0001235);
}

TEST_F(SweepTest, SameSeedSameTrialsOtherSeedOtherTrials) {
  const auto a = sweep::expand(load_sweep(kRandom), 1, false);
  const auto b = sweep::expand(load_sweep(kRandom), 1, false);
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(ids(a), ids(b));
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].params, b[i].params);
  const auto c = sweep::expand(load_sweep(kRandom, {"run.seed=7"}), 1, false);
  EXPECT_NE(ids(a), ids(c));
  EXPECT_EQ(a[0].method, "random");
  EXPECT_EQ(a[0].config.get_int("sweep.num_trials"), 0);  // the trial re-runs alone
}

TEST_F(SweepTest, ALongerSearchStartsWithTheShorterOne) {
  const auto shorter = sweep::expand(load_sweep(kRandom, {"sweep.num_trials=3"}), 1, false);
  const auto longer = sweep::expand(load_sweep(kRandom), 1, false);
  ASSERT_EQ(shorter.size(), 3u);
  for (size_t i = 0; i < shorter.size(); ++i) EXPECT_EQ(shorter[i].id, longer[i].id);
}

TEST_F(SweepTest, DrawsStayInTheirRangesAndLists) {
  const auto trials = sweep::expand(load_sweep(kRandom, {"sweep.num_trials=200"}), 1, false);
  ASSERT_EQ(trials.size(), 200u);
  std::set<std::string> styles;
  std::set<int64_t> blocks;
  for (const auto& t : trials) {
    styles.insert(t.config.get_path("loss.style_image").filename().string());
    const double d = t.config.get_float("loss.depth_weight");
    EXPECT_GE(d, 1e3);
    EXPECT_LE(d, 1e6);
    EXPECT_EQ(sweep::round_significant(d, sweep::kDrawDigits), d) << "4 significant digits";
    const double tv = t.config.get_float("loss.tv_weight");
    EXPECT_GE(tv, 0.0);
    EXPECT_LE(tv, 1e-5);
    const int64_t rb = t.config.get_int("model.residual_blocks");
    EXPECT_GE(rb, 1);
    EXPECT_LE(rb, 9);
    blocks.insert(rb);
  }
  EXPECT_EQ(styles, (std::set<std::string>{"a.jpg", "b.jpg", "c.jpg"}));
  EXPECT_EQ(blocks.size(), 9u) << "an int range reaches every value, both ends included";
}

TEST_F(SweepTest, LogUniformSpreadsEvenlyOverDecades) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: random\n  num_trials: 400\n  axes:\n"
                 "    loss.depth_weight: {log_uniform: [10, 1.0e5]}\n"),
      1, false);
  ASSERT_EQ(trials.size(), 400u);
  int per_decade[4] = {0, 0, 0, 0};
  for (const auto& t : trials) {
    const double d = t.config.get_float("loss.depth_weight");
    ASSERT_GE(d, 10.0);
    ASSERT_LE(d, 1e5);
    ++per_decade[std::min(3, static_cast<int>(std::floor(std::log10(d))) - 1)];
  }
  // 100 expected per decade; a uniform draw would put ~90% in the last one.
  for (int k = 0; k < 4; ++k) {
    EXPECT_GT(per_decade[k], 60) << "decade " << k;
    EXPECT_LT(per_decade[k], 140) << "decade " << k;
  }
}

TEST_F(SweepTest, IntLogUniformDrawsIntegersInRange) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: random\n  num_trials: 20\n  axes:\n    model.width: {log_uniform: [4, 256]}\n"),
      1, false);
  for (const auto& t : trials) {
    EXPECT_GE(t.config.get_int("model.width"), 4);
    EXPECT_LE(t.config.get_int("model.width"), 256);
  }
}

TEST_F(SweepTest, MoreTrialsThanTheListsAllowIsAnError) {
  const auto err = expand_error(load_sweep(
      "sweep:\n  method: random\n  num_trials: 5\n  axes:\n    loss.depth_weight: [0, 1.0]\n"
      "    loss.tv_weight: [0, 1.0]\n"));
  EXPECT_THAT(err, HasSubstr(dir.path().string() + "/sweep.yaml:8:15: sweep.num_trials: is 5 but the axes have only 4 "
                             "distinct combinations; lower it, add values, or use method: grid"));
  // Exactly as many as there are combinations: each once.
  const auto all = sweep::expand(load_sweep("sweep:\n  method: random\n  num_trials: 4\n  axes:\n"
                                            "    loss.depth_weight: [0, 1.0]\n    loss.tv_weight: [0, 1.0]\n"),
                                 1, false);
  const auto all_ids = ids(all);
  std::set<std::string> distinct(all_ids.begin(), all_ids.end());
  EXPECT_EQ(distinct.size(), 4u);
}

TEST_F(SweepTest, ANarrowRangeThatCannotGiveEnoughTrialsIsAnError) {
  const auto err = expand_error(load_sweep(
      "sweep:\n  method: random\n  num_trials: 3\n  axes:\n    model.residual_blocks: {uniform: [1, 2]}\n"));
  EXPECT_THAT(err, HasSubstr("sweep.num_trials: is 3 but only 2 distinct trials came out of many draws; "
                             "widen the ranges or lower it"));
}

TEST_F(SweepTest, ARandomSearchHasAtMostMaxTrials) {
  const auto err = expand_error(load_sweep(
      "sweep:\n  method: random\n  num_trials: 100001\n  axes:\n    loss.tv_weight: {uniform: [0, 1.0]}\n"));
  EXPECT_THAT(err, HasSubstr("sweep.num_trials: is 100001 but a sweep has at most 100000 trials"));
}

}  // namespace
}  // namespace dpst::test
