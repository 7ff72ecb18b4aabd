// Sampler under mpirun -np 2 and -np 3 (acceptance 4): each rank takes its lane; the
// lanes of all ranks are disjoint and cover each epoch's permutation exactly once,
// minus the dropped remainder; a mid-epoch cursor restores the same remaining sequence.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <vector>

#include "data/sampler.h"

namespace dpst::data {
namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int n = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

// Every rank's indices for one batch, concatenated in rank order.
std::vector<int64_t> gather(const std::vector<int64_t>& mine) {
  std::vector<int64_t> all(mine.size() * world_size());
  MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_INT64_T, all.data(), static_cast<int>(mine.size()),
                MPI_INT64_T, MPI_COMM_WORLD);
  return all;
}

TEST(SamplerMpi, LanesAreDisjointAndCoverEachEpochOnce) {
  const int g = world_size(), r = world_rank();
  for (int64_t n : {101, 96}) {
    for (uint64_t seed : {0ULL, 1ULL, 12345ULL}) {
      const int64_t b = 4;
      Sampler s(n, b, g, r, seed);
      const int64_t per_epoch = s.batches_per_epoch();
      EXPECT_EQ(per_epoch, n / (b * g));
      for (int64_t epoch = 0; epoch < 3; ++epoch) {
        std::vector<int64_t> seen;
        for (int64_t k = 0; k < per_epoch; ++k) {
          const auto all = gather(s.next());
          seen.insert(seen.end(), all.begin(), all.end());
        }
        // Exactly the first per_epoch * B entries of this epoch's permutation, in order.
        const auto perm = Sampler::permutation(n, seed, epoch);
        EXPECT_EQ(seen, std::vector<int64_t>(perm.begin(), perm.begin() + per_epoch * b * g));
        std::vector<int64_t> sorted = seen;
        std::sort(sorted.begin(), sorted.end());
        EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "an index was taken twice";
        EXPECT_EQ(static_cast<int64_t>(sorted.size()), n - s.dropped_per_epoch());
        EXPECT_EQ(s.cursor(), (Cursor{epoch + 1, 0}));
      }
    }
  }
}

TEST(SamplerMpi, RestoreFromAMidEpochCursorYieldsTheSameRemainingSequence) {
  const int g = world_size(), r = world_rank();
  Sampler a(77, 3, g, r, 2024);
  for (int i = 0; i < a.batches_per_epoch() + 2; ++i) a.next();
  const Cursor saved = a.cursor();
  EXPECT_EQ(saved, (Cursor{1, 2}));
  std::vector<std::vector<int64_t>> rest;
  for (int i = 0; i < 2 * a.batches_per_epoch(); ++i) rest.push_back(gather(a.next()));
  Sampler b(77, 3, g, r, 2024);
  b.restore(saved);
  for (size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(gather(b.next()), rest[i]) << i;
}

}  // namespace
}  // namespace dpst::data
