// Background prefetching of training batches: worker threads read the batches a
// Sampler chooses from a Dataset, so the training thread never calls HDF5. Batches come
// out in the sampler's order whatever the number of threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "data/dataset.h"
#include "data/sampler.h"

namespace dpst::data {

struct LoaderOptions {
  std::filesystem::path path;  // a pack_coco file
  std::string split = "train2014";
  int threads = 1;   // worker threads reading and converting batches
  int prefetch = 4;  // batches read ahead of the consumer (>= threads is sensible)
  bool pin_memory = false;  // page-locked batches (CUDA builds, for asynchronous copies)
};

struct Batch {
  torch::Tensor images;          // float32 [0,1], (b, 3, S, S)
  std::vector<int64_t> indices;  // dataset rows, images[k] is row indices[k]
  Cursor cursor;                 // the cursor *before* this batch: (epoch, batch) of this batch
  Cursor next_cursor;            // the cursor *after* it: store this in a checkpoint taken after
                                 // training on this batch; restoring it yields the following batch
};

class Loader {
 public:
  // Opens the dataset (throws InputError for a bad file), checks that the sampler was
  // built for its size, and starts the workers at the sampler's current cursor.
  Loader(LoaderOptions options, Sampler sampler);
  ~Loader();  // stops and joins the workers; never blocks on a full queue
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next batch in sampler order. Blocks until it is ready. A failure in a worker is
  // rethrown here as InputError naming the file, split and batch; the loader then stays
  // failed (every later call throws the same error).
  Batch next();

  // Consumer-side counters: time spent blocked in next(), batches/images handed out,
  // and the time since construction (for images/s).
  double wait_ms() const;
  int64_t batches_delivered() const;
  int64_t images_delivered() const;
  double images_per_second() const;

  const Dataset& dataset() const { return *dataset_; }

 private:
  void work();

  LoaderOptions options_;
  std::shared_ptr<const Dataset> dataset_;
  Sampler sampler_;  // guarded by mutex_; advanced in order as workers claim batches

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_, space_cv_;
  int64_t next_claim_ = 0;   // sequence number of the next batch a worker will claim
  int64_t next_deliver_ = 0; // sequence number next() returns next
  std::map<int64_t, Batch> ready_;
  std::map<int64_t, std::exception_ptr> failed_;
  std::exception_ptr sticky_error_;
  bool stop_ = false;

  double wait_ms_ = 0;
  int64_t images_delivered_ = 0;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::thread> workers_;
};

}  // namespace dpst::data
