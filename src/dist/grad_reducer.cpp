#include "dist/grad_reducer.h"

#include <chrono>
#include <cstdint>

#include "common/errors.h"

namespace dpst::dist {

GradientReducer::GradientReducer(std::vector<torch::Tensor> params, Comm& comm, double bucket_mb, std::string name)
    : params_(std::move(params)), comm_(comm), name_(std::move(name)) {
  if (!active()) return;
  const int64_t bucket_bytes = std::max<int64_t>(1, static_cast<int64_t>(bucket_mb * 1024 * 1024));
  bucket_of_.assign(params_.size(), 0);
  offset_of_.assign(params_.size(), 0);
  got_.assign(params_.size(), false);
  // Backward produces gradients roughly from the last layer to the first, so buckets
  // are filled in reverse parameter order.
  std::vector<std::vector<size_t>> groups(1);
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k];
    DPST_CHECK(p.requires_grad(), InternalError, name_ << ": parameter " << k << " does not require grad");
    const int64_t b = p.numel() * static_cast<int64_t>(p.element_size());
    const bool same_kind = groups.back().empty() || (params_[groups.back().front()].scalar_type() == p.scalar_type() &&
                                                     params_[groups.back().front()].device() == p.device());
    if (!groups.back().empty() && (bytes + b > bucket_bytes || !same_kind)) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(k);
    bytes += b;
  }
  for (auto& members : groups) {
    Bucket bucket;
    int64_t numel = 0;
    for (size_t k : members) {
      bucket_of_[k] = buckets_.size();
      offset_of_[k] = numel;
      bucket.offsets.push_back(numel);
      numel += params_[k].numel();
    }
    bucket.members = members;
    bucket.flat = torch::zeros({numel}, params_[members.front()].options().requires_grad(false));
    buckets_.push_back(std::move(bucket));
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    hook_ids_.push_back(params_[k].register_hook([this, k](torch::Tensor grad) { on_grad(k, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < hook_ids_.size(); ++k) params_[k].remove_hook(hook_ids_[k]);
}

void GradientReducer::begin_backward() {
  if (!active()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& b : buckets_) {
    b.pending = b.members.size();
    b.inflight.reset();
  }
  std::fill(got_.begin(), got_.end(), false);
}

void GradientReducer::on_grad(size_t k, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  Bucket& b = buckets_[bucket_of_[k]];
  DPST_CHECK(!got_[k], InternalError, name_ << ": gradient of parameter " << k << " arrived twice in one backward");
  got_[k] = true;
  b.flat.narrow(0, offset_of_[k], params_[k].numel()).copy_(grad.reshape(-1));
  if (--b.pending == 0) launch(b, bucket_of_[k]);
  // MPI progresses only inside MPI calls: poke the reductions already in flight.
  for (auto& other : buckets_) {
    if (other.inflight) other.inflight->test();
  }
}

void GradientReducer::launch(Bucket& bucket, size_t index) {
  bucket.inflight = comm_.allreduce_mean_async(bucket.flat, name_ + " gradient bucket " + std::to_string(index));
}

void GradientReducer::finish_backward() {
  if (!active()) return;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < buckets_.size(); ++i) {
    Bucket& b = buckets_[i];
    if (!b.inflight) {
      // A parameter that got no gradient this step (unused in the graph) counts as zero,
      // the same on every rank, so the bucket can still be reduced.
      for (size_t j = 0; j < b.members.size(); ++j) {
        const size_t k = b.members[j];
        if (!got_[k]) b.flat.narrow(0, b.offsets[j], params_[k].numel()).zero_();
      }
      launch(b, i);
    }
  }
  for (auto& b : buckets_) b.inflight->wait();
  exposed_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    for (size_t j = 0; j < b.members.size(); ++j) {
      auto& p = params_[b.members[j]];
      auto averaged = b.flat.narrow(0, b.offsets[j], p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(averaged);
      } else {
        p.mutable_grad() = averaged.clone();
      }
    }
  }
}

}  // namespace dpst::dist
