#include "dist/comm.h"

#include <chrono>
#include <thread>

#include "common/errors.h"
#include "common/hash.h"

namespace dpst::dist {
namespace {

class SingleProcessComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "none (single process)"; }
  void broadcast(torch::Tensor&, int) override {}
  void allreduce_mean(torch::Tensor&) override {}
  std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor, const std::string&) override {
    struct Done final : PendingReduce {
      bool test() override { return true; }
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  int64_t allreduce_max(int64_t value, const std::string&) override { return value; }
  void barrier(const std::string&) override {}
};

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

std::string mpi_error_text(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return std::string(text, static_cast<size_t>(len));
}

class MpiComm;

// Polls a set of MPI requests until done or the deadline passes.
void wait_with_timeout(std::vector<MPI_Request>& requests, double timeout_s, int rank, const std::string& what) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  auto pause = std::chrono::microseconds(1);
  for (;;) {
    int done = 0;
    const int rc = MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
    DPST_CHECK(rc == MPI_SUCCESS, DistributedError,
               "rank " << rank << ": " << what << " failed: " << mpi_error_text(rc));
    if (done) return;
    if (Clock::now() > deadline) {
      DPST_THROW(DistributedError, "rank " << rank << ": " << what << " did not complete within " << timeout_s
                                           << " s (train.collective_timeout_s); another rank has died or hangs");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
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
    MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
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
    MPI_Comm_rank(group_, &rank_);
    MPI_Comm_size(group_, &size_);
    MPI_Comm_set_errhandler(group_, MPI_ERRORS_RETURN);
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
    const int rc = MPI_Iallreduce(&buf[0], &buf[1], 1, MPI_INT64_T, MPI_MAX, group_, &req);
    DPST_CHECK(rc == MPI_SUCCESS, DistributedError, "rank " << rank_ << ": " << what << ": " << mpi_error_text(rc));
    std::vector<MPI_Request> requests{req};
    wait_with_timeout(requests, options_.timeout_s, rank_, what);
    const int64_t out = buf[1];
    delete[] buf;
    return out;
  }

  void barrier(const std::string& what) override {
    MPI_Request req;
    const int rc = MPI_Ibarrier(group_, &req);
    DPST_CHECK(rc == MPI_SUCCESS, DistributedError, "rank " << rank_ << ": " << what << ": " << mpi_error_text(rc));
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
      const int rc = post_one(base + offset * static_cast<int64_t>(t.element_size()), count, type, &req);
      DPST_CHECK(rc == MPI_SUCCESS, DistributedError, "rank " << rank_ << ": " << what << ": " << mpi_error_text(rc));
      requests.push_back(req);
    }
    return requests;
  }

  MPI_Comm group_;
  CommOptions options_;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace

std::unique_ptr<Comm> make_single_process_comm() { return std::make_unique<SingleProcessComm>(); }

std::unique_ptr<Comm> make_mpi_comm(MPI_Comm group, const CommOptions& options) {
  return std::make_unique<MpiComm>(group, options);
}

#ifndef DPST_HAVE_NCCL
std::unique_ptr<Comm> make_nccl_comm(MPI_Comm, int, const CommOptions&) {
  DPST_THROW(DistributedError, "this dpst was built without NCCL; CUDA tensors cannot be communicated "
                               "(rebuild against a CUDA LibTorch with NCCL found, see README)");
}
#endif

std::unique_ptr<Comm> make_comm(MPI_Comm group, const torch::Device& device, const CommOptions& options) {
  int size = 1;
  MPI_Comm_size(group, &size);
  if (size == 1) return make_single_process_comm();
  if (device.is_cuda()) return make_nccl_comm(group, device.has_index() ? device.index() : 0, options);
  return make_mpi_comm(group, options);
}

uint64_t checksum(const std::vector<torch::Tensor>& tensors) {
  uint64_t h = fnv1a64(nullptr, 0);
  for (const auto& t : tensors) {
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    h = fnv1a64(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size(), h);
  }
  return h;
}

}  // namespace dpst::dist
