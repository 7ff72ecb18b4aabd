// The MPI half of src/dist's communication (the MPI flavour only; comm_solo.cpp stands in
// without MPI): MPI error handling, the MPI backend, rank groups and the NCCL id exchange.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <utility>

#include "common/errors.h"
#include "common/logging.h"
#include "dist/comm.h"
#include "dist/mpi_comm.h"

namespace dpst::dist {

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, text, &len) != MPI_SUCCESS) return "MPI error code " + std::to_string(code);
  return std::string(text, static_cast<size_t>(len));
}

int world_rank_for_messages() {
  int rank = -1;
  return MPI_Comm_rank(MPI_COMM_WORLD, &rank) == MPI_SUCCESS ? rank : -1;
}

void check_mpi(int rc, int rank, const std::string& what) {
  DPST_CHECK(rc == MPI_SUCCESS, DistributedError, "rank " << rank << ": " << what << " failed: " << mpi_error_text(rc));
}

// Polls a set of MPI requests until done or the deadline passes.
void wait_with_timeout(std::vector<MPI_Request>& requests, double timeout_s, int rank, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  // An infinite timeout waits as long as it takes (the end-of-job count, sweep groups
  // finishing hours apart).
  const bool forever = !std::isfinite(timeout_s);
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(forever ? 0.0 : timeout_s));
  auto pause = std::chrono::microseconds(1);
  for (;;) {
    int done = 0;
    check_mpi(MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE), rank, what);
    if (done) return;
    if (!forever && Clock::now() > deadline) {
      DPST_THROW(DistributedError, "rank " << rank << ": " << what << " did not complete within " << timeout_s
                                           << " s (train.collective_timeout_s); another rank has died or hangs");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

namespace {

MPI_Datatype mpi_type(const torch::Tensor& t) {
  switch (t.scalar_type()) {
    case torch::kFloat: return MPI_FLOAT;
    case torch::kDouble: return MPI_DOUBLE;
    case torch::kLong: return MPI_INT64_T;
    case torch::kInt: return MPI_INT32_T;
    case torch::kByte: return MPI_UINT8_T;
    default: break;
  }
  DPST_THROW(InternalError, "MPI backend: unsupported dtype " << t.scalar_type());
}

class MpiPending final : public PendingReduce {
 public:
  MpiPending(torch::Tensor tensor, std::vector<MPI_Request> requests, int size, double timeout_s, int rank,
             std::string what)
      : tensor_(std::move(tensor)), requests_(std::move(requests)), size_(size), timeout_s_(timeout_s),
        rank_(rank), what_(std::move(what)) {}
  ~MpiPending() override {
    // Never leave a request that writes into freed memory.
    if (!finished_) {
      try {
        wait();
      } catch (...) {
      }
    }
  }
  bool test() override {
    if (finished_) return true;
    int done = 0;
    check_mpi(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE), rank_,
              what_);
    return done != 0;
  }
  void wait() override {
    if (finished_) return;
    wait_with_timeout(requests_, timeout_s_, rank_, what_);
    tensor_.div_(size_);
    finished_ = true;
  }

 private:
  torch::Tensor tensor_;
  std::vector<MPI_Request> requests_;
  int size_;
  double timeout_s_;
  int rank_;
  std::string what_;
  bool finished_ = false;
};

class MpiComm final : public Comm {
 public:
  MpiComm(MPI_Comm group, const CommOptions& options) : group_(group), options_(options) {
    const int world_rank = world_rank_for_messages();
    check_mpi(MPI_Comm_set_errhandler(group_, MPI_ERRORS_RETURN), world_rank, "setting the group's error handler");
    check_mpi(MPI_Comm_rank(group_, &rank_), world_rank, "MPI_Comm_rank of the group");
    check_mpi(MPI_Comm_size(group_, &size_), world_rank, "MPI_Comm_size of the group");
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "broadcast");
    auto requests = post(tensor, [&](void* data, int count, MPI_Datatype type, MPI_Request* req) {
      return MPI_Ibcast(data, count, type, root, group_, req);
    }, "broadcast");
    wait_with_timeout(requests, options_.timeout_s, rank_, "broadcast");
  }

  void allreduce_mean(torch::Tensor& tensor) override { allreduce_mean_async(tensor, "all-reduce")->wait(); }

  std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor tensor, const std::string& what) override {
    check_tensor(tensor, what);
    auto requests = post(tensor, [&](void* data, int count, MPI_Datatype type, MPI_Request* req) {
      return MPI_Iallreduce(MPI_IN_PLACE, data, count, type, MPI_SUM, group_, req);
    }, what);
    return std::make_unique<MpiPending>(tensor, std::move(requests), size_, options_.timeout_s, rank_, what);
  }

  int64_t allreduce_max(int64_t value, const std::string& what) override {
    // Heap buffers: after a timeout the request is still posted and may complete later,
    // so its memory is deliberately leaked rather than left dangling (the job ends anyway).
    auto* buf = new int64_t[2]{value, value};
    MPI_Request req;
    check_mpi(MPI_Iallreduce(&buf[0], &buf[1], 1, MPI_INT64_T, MPI_MAX, group_, &req), rank_, what);
    std::vector<MPI_Request> requests{req};
    wait_with_timeout(requests, options_.timeout_s, rank_, what);
    const int64_t out = buf[1];
    delete[] buf;
    return out;
  }

  void barrier(const std::string& what) override {
    MPI_Request req;
    check_mpi(MPI_Ibarrier(group_, &req), rank_, what);
    std::vector<MPI_Request> requests{req};
    wait_with_timeout(requests, options_.timeout_s, rank_, what);
  }

 private:
  void check_tensor(const torch::Tensor& t, const std::string& what) const {
    DPST_CHECK(t.device().is_cpu(), InternalError, what << ": the MPI backend takes CPU tensors, got " << t.device());
    DPST_CHECK(t.is_contiguous(), InternalError, what << ": tensor must be contiguous");
  }

  // MPI counts are ints: split very large tensors into chunks of at most 2^30 elements.
  template <typename Post>
  std::vector<MPI_Request> post(torch::Tensor& t, Post&& post_one, const std::string& what) {
    const MPI_Datatype type = mpi_type(t);
    const int64_t total = t.numel();
    const int64_t chunk = int64_t{1} << 30;
    auto* base = static_cast<char*>(t.data_ptr());
    std::vector<MPI_Request> requests;
    for (int64_t offset = 0; offset < total; offset += chunk) {
      const int count = static_cast<int>(std::min(chunk, total - offset));
      MPI_Request req;
      check_mpi(post_one(base + offset * static_cast<int64_t>(t.element_size()), count, type, &req), rank_, what);
      requests.push_back(req);
    }
    return requests;
  }

  MPI_Comm group_;
  CommOptions options_;
  int rank_ = 0;
  int size_ = 1;
};

// A Comm that owns its group's MPI communicator: the backend goes first, then the group
// is freed. Forwards every call.
class OwningGroupComm final : public Comm {
 public:
  OwningGroupComm(MPI_Comm group, std::unique_ptr<Comm> inner) : group_(group), inner_(std::move(inner)) {}
  ~OwningGroupComm() override {
    const int rank = inner_->rank();
    inner_.reset();
    const int rc = MPI_Comm_free(&group_);
    // A destructor cannot throw; a failure here only leaks the communicator of a job that ends.
    if (rc != MPI_SUCCESS) spdlog::warn("rank {}: freeing the rank group's communicator failed: {}", rank, mpi_error_text(rc));
  }
  int rank() const override { return inner_->rank(); }
  int size() const override { return inner_->size(); }
  std::string backend() const override { return inner_->backend(); }
  void broadcast(torch::Tensor& tensor, int root) override { inner_->broadcast(tensor, root); }
  void allreduce_mean(torch::Tensor& tensor) override { inner_->allreduce_mean(tensor); }
  std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor tensor, const std::string& what) override {
    return inner_->allreduce_mean_async(std::move(tensor), what);
  }
  int64_t allreduce_max(int64_t value, const std::string& what) override { return inner_->allreduce_max(value, what); }
  void barrier(const std::string& what) override { inner_->barrier(what); }

 private:
  MPI_Comm group_;
  std::unique_ptr<Comm> inner_;
};

}  // namespace

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm group, const CommOptions& options) {
  return std::make_unique<MpiComm>(group, options);
}

std::unique_ptr<Comm> make_nccl_comm(MPI_Comm group, int device_index, const CommOptions& options) {
  const int world_rank = world_rank_for_messages();
  int rank = 0, size = 1;
  check_mpi(MPI_Comm_rank(group, &rank), world_rank, "MPI_Comm_rank of the group");
  check_mpi(MPI_Comm_size(group, &size), world_rank, "MPI_Comm_size of the group");
  NcclId id{};
  if (rank == 0) id = new_nccl_id();
  check_mpi(MPI_Bcast(id.data(), static_cast<int>(id.size()), MPI_BYTE, 0, group), rank,
            "broadcasting the NCCL unique id");
  return make_nccl_comm(rank, size, id, device_index, options);
}

std::unique_ptr<Comm> make_comm(MPI_Comm group, const torch::Device& device, const CommOptions& options) {
  int size = 1;
  check_mpi(MPI_Comm_size(group, &size), world_rank_for_messages(), "MPI_Comm_size of the rank group");
  if (size == 1) return make_single_process_comm();
  if (device.is_cuda()) return make_nccl_comm(group, device.has_index() ? device.index() : 0, options);
  return make_mpi_comm(group, options);
}

std::unique_ptr<Comm> make_group_comm(int color, const torch::Device& device, const CommOptions& options) {
  const int world_rank = world_rank_for_messages();
  MPI_Comm group = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split(MPI_COMM_WORLD, color, world_rank, &group), world_rank,
            "forming rank group " + std::to_string(color) + " (MPI_Comm_split)");
  try {
    return std::make_unique<OwningGroupComm>(group, make_comm(group, device, options));
  } catch (...) {
    // The backend's error is the one to report; a failed free here is only logged.
    if (MPI_Comm_free(&group) != MPI_SUCCESS) spdlog::warn("rank {}: freeing rank group {} failed", world_rank, color);
    throw;
  }
}

}  // namespace dpst::dist
