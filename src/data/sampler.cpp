#include "data/sampler.h"

#include <spdlog/spdlog.h>

#include "common/errors.h"

namespace dpst::data {

namespace {

// splitmix64: a tiny, well-mixed, fully specified generator.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, bound) without modulo bias (rejection sampling).
uint64_t uniform_below(uint64_t& state, uint64_t bound) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x;
  do x = splitmix64(state);
  while (x >= limit);
  return x % bound;
}

}  // namespace

Sampler::Sampler(int64_t num_images, int64_t batch_per_rank, int group_size, int group_rank, uint64_t seed)
    : num_images_(num_images), batch_(batch_per_rank), group_size_(group_size), group_rank_(group_rank), seed_(seed) {
  DPST_CHECK(batch_per_rank > 0, ConfigError, "sampler: batch size per rank must be positive, got " << batch_per_rank);
  DPST_CHECK(group_size > 0 && group_rank >= 0 && group_rank < group_size, ConfigError,
             "sampler: group rank " << group_rank << " is outside a group of " << group_size);
  DPST_CHECK(num_images >= global_batch(), ConfigError,
             "sampler: the dataset has " << num_images << " images, fewer than one global batch of " << global_batch()
                                         << " (" << group_size << " ranks x " << batch_per_rank << ")");
  batches_per_epoch_ = num_images_ / global_batch();
  if (dropped_per_epoch() > 0 && group_rank_ == 0)
    spdlog::info("sampler: {} images, global batch {}: {} batches per epoch, the last {} images of each epoch's "
                 "permutation are dropped",
                 num_images_, global_batch(), batches_per_epoch_, dropped_per_epoch());
}

std::vector<int64_t> Sampler::permutation(int64_t num_images, uint64_t seed, int64_t epoch) {
  uint64_t state = seed;
  splitmix64(state);
  state ^= static_cast<uint64_t>(epoch) * 0xD1B54A32D192ED03ULL;
  std::vector<int64_t> perm(num_images);
  for (int64_t i = 0; i < num_images; ++i) perm[i] = i;
  // Fisher-Yates, from the back.
  for (int64_t i = num_images - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(uniform_below(state, static_cast<uint64_t>(i) + 1));
    std::swap(perm[i], perm[j]);
  }
  return perm;
}

const std::vector<int64_t>& Sampler::epoch_permutation(int64_t epoch) {
  if (cached_epoch_ != epoch) {
    perm_ = permutation(num_images_, seed_, epoch);
    cached_epoch_ = epoch;
  }
  return perm_;
}

std::vector<int64_t> Sampler::next() {
  const auto& perm = epoch_permutation(cursor_.epoch);
  const int64_t begin = cursor_.batch * global_batch() + group_rank_ * batch_;
  std::vector<int64_t> out(perm.begin() + begin, perm.begin() + begin + batch_);
  ++cursor_.batch;
  if (cursor_.batch == batches_per_epoch_) cursor_ = {cursor_.epoch + 1, 0};
  return out;
}

void Sampler::restore(const Cursor& cursor) {
  DPST_CHECK(cursor.epoch >= 0 && cursor.batch >= 0 && cursor.batch < batches_per_epoch_, ConfigError,
             "sampler: cannot restore cursor (epoch " << cursor.epoch << ", batch " << cursor.batch << "): an epoch has "
                                                      << batches_per_epoch_ << " batches (was the batch size or dataset changed?)");
  cursor_ = cursor;
}

}  // namespace dpst::data
