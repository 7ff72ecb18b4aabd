// Sampler on one process: permutations, lanes, remainder, cursor restore.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/errors.h"
#include "data/sampler.h"

namespace dpst::data {
namespace {

TEST(Sampler, PermutationIsDeterministicAndDiffersByEpochAndSeed) {
  const auto p = Sampler::permutation(50, 7, 0);
  EXPECT_EQ(p, Sampler::permutation(50, 7, 0));
  EXPECT_NE(p, Sampler::permutation(50, 7, 1));
  EXPECT_NE(p, Sampler::permutation(50, 8, 0));
  auto sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  // Pinned values: the sequence must not change between builds or platforms, or
  // resumed runs would see different data.
  EXPECT_EQ(std::vector<int64_t>(p.begin(), p.begin() + 6), (std::vector<int64_t>{26, 33, 25, 21, 2, 45}));
}

TEST(Sampler, LanesAreSlicesOfTheSingleRankGlobalBatch) {
  const int64_t n = 23, b = 2;
  for (int g : {1, 2, 3}) {
    Sampler single(n, g * b, 1, 0, 42);
    std::vector<Sampler> lanes;
    for (int r = 0; r < g; ++r) lanes.emplace_back(n, b, g, r, 42);
    EXPECT_EQ(single.batches_per_epoch(), lanes[0].batches_per_epoch());
    for (int step = 0; step < 3 * single.batches_per_epoch(); ++step) {
      const auto global = single.next();
      for (int r = 0; r < g; ++r) {
        const auto lane = lanes[r].next();
        EXPECT_EQ(lane, std::vector<int64_t>(global.begin() + r * b, global.begin() + (r + 1) * b)) << g << " " << r;
        EXPECT_EQ(lanes[r].cursor(), single.cursor());
      }
    }
  }
}

TEST(Sampler, EpochsDropTheRemainderAndAdvance) {
  Sampler s(10, 3, 1, 0, 1);
  EXPECT_EQ(s.batches_per_epoch(), 3);
  EXPECT_EQ(s.dropped_per_epoch(), 1);
  std::set<int64_t> seen;
  for (int i = 0; i < 3; ++i)
    for (int64_t x : s.next()) EXPECT_TRUE(seen.insert(x).second);
  EXPECT_EQ(seen.size(), 9u);
  EXPECT_EQ(s.cursor(), (Cursor{1, 0}));
  const auto perm1 = Sampler::permutation(10, 1, 1);
  EXPECT_EQ(s.next(), std::vector<int64_t>(perm1.begin(), perm1.begin() + 3));
}

TEST(Sampler, RestoringACursorContinuesTheSameSequence) {
  Sampler a(37, 4, 3, 1, 9);
  for (int i = 0; i < 5; ++i) a.next();  // into epoch 1 (3 batches per epoch)
  const Cursor saved = a.cursor();
  EXPECT_EQ(saved, (Cursor{1, 2}));
  std::vector<std::vector<int64_t>> rest;
  for (int i = 0; i < 7; ++i) rest.push_back(a.next());
  Sampler b(37, 4, 3, 1, 9);
  b.restore(saved);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(b.next(), rest[i]) << i;
}

TEST(Sampler, BadArgumentsAreConfigErrors) {
  auto message = [](auto f) {
    try {
      f();
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([] { Sampler(5, 2, 3, 0, 0); }),
            "sampler: the dataset has 5 images, fewer than one global batch of 6 (3 ranks x 2)");
  EXPECT_EQ(message([] { Sampler(50, 2, 3, 3, 0); }), "sampler: group rank 3 is outside a group of 3");
  EXPECT_EQ(message([] { Sampler(50, 0, 1, 0, 0); }), "sampler: batch size per rank must be positive, got 0");
  Sampler s(10, 2, 1, 0, 0);
  EXPECT_NE(message([&] { s.restore({0, 5}); }).find("cannot restore cursor (epoch 0, batch 5): an epoch has 5 batches"),
            std::string::npos);
}

}  // namespace
}  // namespace dpst::data
