// Trial ids: readable, stable across machines and runs, filesystem-safe, unique.
#include <regex>

#include "sweep/trial_id.h"
#include "sweep_test_util.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;

const char* kPinned =
    "sweep:\n  method: grid\n  axes:\n    loss.style_image: [/styles/candy.jpg]\n"
    "    loss.depth_weight: [2.8e5]\n    loss.tv_weight: [1.0e-7]\n    loss.depth_layers: [[output, L2]]\n";

TEST(SweepTrialId, Fnv1aMatchesTheReferenceValues) {
  EXPECT_EQ(sweep::fnv1a32(""), 0x811c9dc5u);
  EXPECT_EQ(sweep::fnv1a32("a"), 0xe40c292cu);
  EXPECT_EQ(sweep::fnv1a32("foobar"), 0xbf9cf968u);
  EXPECT_EQ(sweep::hex8(0xabu), "000000ab");
}

TEST_F(SweepTest, TheIdOfAFixedTrialIsPinned) {
  // Computed once and pinned (= FNV-1a of "loss.style_image=candy.jpg;loss.depth_weight=280000.0;
  // loss.tv_weight=1.0e-7;loss.depth_layers=[output, L2];"): changing it orphans the
  // folders of every existing sweep.
  const auto trials = sweep::expand(load_sweep(kPinned), 1, false);
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].id, "candy-d2.8e5-tv1e-7-dl_output.L2-d31f0082");
}

TEST_F(SweepTest, TheIdIgnoresTheStyleFolderAndUnsweptKeys) {
  const auto a = sweep::expand(load_sweep(kPinned), 1, false);
  std::string moved = kPinned;
  moved.replace(moved.find("/styles/"), 8, "/elsewhere/checkout/styles/");
  const auto b = sweep::expand(load_sweep(moved, {"optim.lr=0.01", "run.seed=3"}), 1, false);
  EXPECT_EQ(a[0].id, b[0].id);
}

TEST_F(SweepTest, IdsAreFilesystemSafeAndCapped) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: grid\n  axes:\n"
                 "    loss.style_image: [\".my style (v2)!.jpg\", \"a very long style image name that goes on and on "
                 "and on.png\"]\n"
                 "    loss.style_layers: [[relu1_2, relu2_2, relu3_3, relu4_3]]\n"
                 "    loss.content_weight: [12345.678]\n    optim.lr: [0.000123]\n    model.width: [48]\n"),
      1, false);
  ASSERT_EQ(trials.size(), 2u);
  const std::regex safe("[A-Za-z0-9_][A-Za-z0-9._-]*-[0-9a-f]{8}");
  for (const auto& t : trials) {
    EXPECT_TRUE(std::regex_match(t.id, safe)) << t.id;
    EXPECT_LE(t.id.size(), sweep::kMaxIdLength) << t.id;
  }
  EXPECT_EQ(trials[0].id.substr(0, 16), "my_style__v2__-s");
  EXPECT_EQ(trials[1].id.size(), sweep::kMaxIdLength);
}

TEST_F(SweepTest, StyleImagesWithTheSameNameInTwoFoldersAreRejected) {
  const auto err = expand_error(
      load_sweep("sweep:\n  method: grid\n  axes:\n    loss.style_image: [one/s.jpg, two/s.jpg]\n"));
  EXPECT_THAT(err, HasSubstr("sweep.axes: trial s-"));
  EXPECT_THAT(err, HasSubstr(": trials 0 and 1 get the same id (style images with the same file name in different "
                             "folders?); give the files different names"));
}

TEST_F(SweepTest, AListValueOfTheStyleAxisIsOneMultiStyleTrial) {
  const auto trials = sweep::expand(
      load_sweep("sweep:\n  method: grid\n  axes:\n    loss.style_image: [[s/candy.jpg, s/my wave.jpg], s/candy.jpg]\n"
                 "    loss.depth_weight: [0, 1.0e5]\n"),
      1, false);
  ASSERT_EQ(trials.size(), 4u);
  // Stems joined by '+', each sanitized on its own; the one-style trial keeps its usual id.
  EXPECT_THAT(trials[0].id, ::testing::StartsWith("candy+my_wave-d0-"));
  EXPECT_THAT(trials[2].id, ::testing::StartsWith("candy-d0-"));
  const auto multi = trials[1].config.loss().style_images;
  ASSERT_EQ(multi.size(), 2u);
  EXPECT_EQ(multi[1], dir / "s" / "my wave.jpg");
  EXPECT_EQ(trials[3].config.loss().style_images.size(), 1u);
  // The hash part is stable across checkouts (file names only), as for one path.
  EXPECT_EQ(trials[0].id, sweep::make_trial_id({{"loss.style_image", std::vector<std::string>{"/x/candy.jpg",
                                                                                              "/y/my wave.jpg"}},
                                                {"loss.depth_weight", 0.0}}));
  // A trial's config.yaml holds the list, and re-runs that one multi-style trial.
  EXPECT_THAT(trials[1].config.dump(), HasSubstr("  style_image: [" + (dir / "s" / "candy.jpg").string() + ", "));
  // Two values naming the same styles would be the same trial.
  try {
    load_sweep("sweep:\n  method: grid\n  axes:\n    loss.style_image: [[a.jpg, b.jpg], [a.jpg, b.jpg]]\n");
    ADD_FAILURE() << "a repeated list of styles was accepted";
  } catch (const config::ConfigProblems& e) {
    EXPECT_THAT(e.what(), HasSubstr("sweep.axes.loss.style_image: value 2 ([" + (dir / "a.jpg").string() + ", " +
                                    (dir / "b.jpg").string() + "]) repeats value 1"));
  }
}

TEST(SweepTrialId, NeedsAtLeastOneValue) {
  try {
    sweep::make_trial_id({});
    FAIL() << "expected InternalError";
  } catch (const InternalError& e) {
    EXPECT_THAT(e.what(), HasSubstr("a sweep trial id needs at least one swept value"));
  }
  EXPECT_THROW(sweep::make_trial_id({{"no.such_key", config::Value(int64_t{1})}}), InternalError);
  EXPECT_EQ(sweep::id_abbreviation("loss.depth_weight"), "d");
  EXPECT_EQ(sweep::id_abbreviation("loss.style_size"), "ss");
  EXPECT_EQ(sweep::id_abbreviation("some.unlisted_key"), "unlisted_key");
}

}  // namespace
}  // namespace dpst::test
