#include "data/loader.h"

#include <chrono>
#include <sstream>

#include "common/errors.h"

namespace dpst::data {

Loader::Loader(LoaderOptions options, Sampler sampler) : options_(std::move(options)), sampler_(std::move(sampler)) {
  DPST_CHECK(options_.threads >= 1, ConfigError, "loader: threads must be >= 1, got " << options_.threads);
  DPST_CHECK(options_.prefetch >= 1, ConfigError, "loader: prefetch must be >= 1, got " << options_.prefetch);
  dataset_ = std::make_shared<const Dataset>(Dataset::open(options_.path, options_.split));
  DPST_CHECK(sampler_.num_images() == dataset_->size(), ConfigError,
             "loader: the sampler was built for " << sampler_.num_images() << " images but " << options_.path.string()
                                                  << " split '" << options_.split << "' has " << dataset_->size());
  started_ = std::chrono::steady_clock::now();
  for (int t = 0; t < options_.threads; ++t) workers_.emplace_back([this] { work(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  space_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void Loader::work() {
  for (;;) {
    int64_t seq;
    Batch batch;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // Claim batches only within the prefetch window; stop claiming after a failure.
      space_cv_.wait(lock, [&] { return stop_ || (!sticky_error_ && next_claim_ < next_deliver_ + options_.prefetch); });
      if (stop_) return;
      seq = next_claim_++;
      batch.cursor = sampler_.cursor();
      batch.indices = sampler_.next();
      batch.next_cursor = sampler_.cursor();
    }
    try {
      batch.images = dataset_->read_batch(batch.indices);
      if (options_.pin_memory) batch.images = batch.images.pin_memory();
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(seq, std::move(batch));
    } catch (const std::exception& e) {
      std::ostringstream os;
      os << "data loader: batch " << batch.cursor.batch << " of epoch " << batch.cursor.epoch << " (" << batch.indices.size()
         << " images) from " << options_.path.string() << " split '" << options_.split << "': " << e.what();
      std::lock_guard<std::mutex> lock(mutex_);
      failed_.emplace(seq, std::make_exception_ptr(InputError(os.str())));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      failed_.emplace(seq, std::make_exception_ptr(InternalError("data loader: unknown exception in a worker")));
    }
    ready_cv_.notify_all();
  }
}

Batch Loader::next() {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  if (sticky_error_) std::rethrow_exception(sticky_error_);
  ready_cv_.wait(lock, [&] { return ready_.count(next_deliver_) > 0 || failed_.count(next_deliver_) > 0; });
  wait_ms_ += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (auto f = failed_.find(next_deliver_); f != failed_.end()) {
    sticky_error_ = f->second;
    failed_.erase(f);
    space_cv_.notify_all();
    std::rethrow_exception(sticky_error_);
  }
  auto it = ready_.find(next_deliver_);
  Batch batch = std::move(it->second);
  ready_.erase(it);
  ++next_deliver_;
  images_delivered_ += static_cast<int64_t>(batch.indices.size());
  lock.unlock();
  space_cv_.notify_all();
  return batch;
}

double Loader::wait_ms() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return wait_ms_;
}

int64_t Loader::batches_delivered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_deliver_;
}

int64_t Loader::images_delivered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return images_delivered_;
}

double Loader::images_per_second() const {
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return s > 0 ? images_delivered() / s : 0;
}

}  // namespace dpst::data
