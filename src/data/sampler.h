// Which images each rank reads, batch by batch. Each epoch is a permutation of
// 0..N-1 drawn from (seed, epoch) alone; a global batch is B = group_size * batch
// consecutive entries of it, and group rank r takes lane r: global[r*b, (r+1)*b).
// So G ranks with batch b see exactly the images 1 rank with batch G*b sees, and all
// ranks take the same number of batches per epoch (the last N mod B are dropped).
#pragma once

#include <cstdint>
#include <vector>

namespace dpst::data {

// Position in the sequence: the next batch next() returns is batch `batch` of epoch
// `epoch`. Small and plain so a checkpoint can store it.
struct Cursor {
  int64_t epoch = 0;
  int64_t batch = 0;
  bool operator==(const Cursor& o) const { return epoch == o.epoch && batch == o.batch; }
  bool operator!=(const Cursor& o) const { return !(*this == o); }
};

class Sampler {
 public:
  // Throws ConfigError for a group_rank outside [0, group_size), a non-positive batch,
  // or fewer images than one global batch.
  Sampler(int64_t num_images, int64_t batch_per_rank, int group_size, int group_rank, uint64_t seed);

  // This rank's indices for the batch at cursor(), then advances (into the next epoch
  // after the last batch).
  std::vector<int64_t> next();

  Cursor cursor() const { return cursor_; }
  // Continue from a stored cursor; throws ConfigError if it does not fit this sampler.
  void restore(const Cursor& cursor);

  int64_t batches_per_epoch() const { return batches_per_epoch_; }
  int64_t num_images() const { return num_images_; }
  int64_t batch_per_rank() const { return batch_; }
  int64_t global_batch() const { return batch_ * group_size_; }
  int64_t dropped_per_epoch() const { return num_images_ - batches_per_epoch_ * global_batch(); }
  int group_size() const { return group_size_; }
  int group_rank() const { return group_rank_; }
  uint64_t seed() const { return seed_; }

  // The permutation of epoch `epoch`: deterministic in (seed, epoch), the same on every
  // platform (own generator and shuffle, not std::shuffle).
  static std::vector<int64_t> permutation(int64_t num_images, uint64_t seed, int64_t epoch);

 private:
  const std::vector<int64_t>& epoch_permutation(int64_t epoch);

  int64_t num_images_, batch_;
  int group_size_, group_rank_;
  uint64_t seed_;
  int64_t batches_per_epoch_;
  Cursor cursor_;
  int64_t cached_epoch_ = -1;
  std::vector<int64_t> perm_;
};

}  // namespace dpst::data
