// Data-parallel gradient averaging for one trial's f_W inside its rank group.
// Gradients are packed into flat buckets (train.bucket_mb); an autograd hook on each
// parameter copies its gradient into its bucket, and a bucket's all-reduce starts as
// soon as its last gradient arrives, so communication overlaps the rest of backward.
// Only the parameters given here are reduced: frozen loss networks never are.
// With a group of one, no hooks are installed and nothing is copied.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <torch/types.h>

#include "dist/comm.h"

namespace dpst::dist {

class GradientReducer {
 public:
  GradientReducer(std::vector<torch::Tensor> params, Comm& comm, double bucket_mb, std::string name);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Call before backward(): arms the buckets for one step.
  void begin_backward();
  // Call after backward(): waits for every bucket and writes the group mean into each
  // parameter's .grad() (replacing what backward accumulated this step).
  void finish_backward();

  bool active() const { return comm_.size() > 1; }
  size_t num_buckets() const { return buckets_.size(); }
  // Host time spent blocked in the last finish_backward(): communication not hidden
  // behind backward ("exposed").
  double exposed_ms() const { return exposed_ms_; }

 private:
  struct Bucket {
    torch::Tensor flat;
    std::vector<size_t> members;  // indices into params_
    std::vector<int64_t> offsets;
    size_t pending = 0;
    std::unique_ptr<PendingReduce> inflight;
  };
  void on_grad(size_t param_index, const torch::Tensor& grad);
  void launch(Bucket& bucket, size_t index);

  std::vector<torch::Tensor> params_;
  Comm& comm_;
  std::string name_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // param index -> bucket index
  std::vector<int64_t> offset_of_;
  std::vector<bool> got_;
  std::vector<unsigned> hook_ids_;
  std::mutex mutex_;  // CUDA backward may run hooks on autograd's device threads
  double exposed_ms_ = 0;
};

}  // namespace dpst::dist
