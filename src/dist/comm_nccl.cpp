// NCCL backend (built only when CUDA and NCCL are found). Collectives run on a stream
// of their own, ordered after the producer's compute with CUDA events and before the
// consumer's with a stream wait, so the host never blocks inside a training step. The
// unique id comes in as bytes (comm.h's NcclId): over MPI in the MPI flavour
// (comm_mpi.cpp), made on the spot for a communicator of one.
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "common/errors.h"
#include "dist/comm.h"
#include "dist/nccl_host.h"

namespace dpst::dist {
namespace {

#define DPST_CUDA_OK(expr, what)                                                                  \
  do {                                                                                            \
    const cudaError_t e_ = (expr);                                                                \
    DPST_CHECK(e_ == cudaSuccess, DistributedError, what << ": " << cudaGetErrorString(e_));       \
  } while (0)
#define DPST_NCCL_OK(expr, what)                                                                  \
  do {                                                                                            \
    const ncclResult_t r_ = (expr);                                                               \
    DPST_CHECK(r_ == ncclSuccess, DistributedError, what << ": " << ncclGetErrorString(r_));       \
  } while (0)

ncclDataType_t nccl_type_of(const torch::Tensor& t) { return nccl_type(t.scalar_type()); }

// Polls an event from the host until it completes or the deadline passes.
void wait_event(cudaEvent_t event, double timeout_s, int rank, const std::string& what, ncclComm_t comm) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const cudaError_t q = cudaEventQuery(event);
    if (q == cudaSuccess) return;
    DPST_CHECK(q == cudaErrorNotReady, DistributedError, "rank " << rank << ": " << what << ": " << cudaGetErrorString(q));
    ncclResult_t async_error = ncclSuccess;
    ncclCommGetAsyncError(comm, &async_error);
    DPST_CHECK(async_error == ncclSuccess, DistributedError, nccl_error_message(rank, what, async_error));
    if (Clock::now() > deadline) {
      ncclCommAbort(comm);
      DPST_THROW(DistributedError, nccl_timeout_message(rank, what, timeout_s));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

class NcclPending final : public PendingReduce {
 public:
  NcclPending(torch::Tensor tensor, cudaEvent_t done, c10::cuda::CUDAStream consumer)
      : tensor_(std::move(tensor)), done_(done), consumer_(consumer) {}
  ~NcclPending() override { cudaEventDestroy(done_); }
  bool test() override { return cudaEventQuery(done_) == cudaSuccess; }
  // No host synchronisation: the consumer stream waits for the reduction on the GPU.
  void wait() override { cudaStreamWaitEvent(consumer_.stream(), done_, 0); }

 private:
  torch::Tensor tensor_;  // keeps the buffer alive while NCCL writes into it
  cudaEvent_t done_;
  c10::cuda::CUDAStream consumer_;
};

class NcclComm final : public Comm {
 public:
  NcclComm(int rank, int size, const NcclId& id_bytes, int device_index, const CommOptions& options)
      : device_index_(device_index), options_(options), rank_(rank), size_(size) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index_));
    ncclUniqueId id;
    std::memcpy(&id, id_bytes.data(), sizeof id);
    DPST_NCCL_OK(ncclCommInitRank(&comm_, size_, id, rank_), "rank " << rank_ << ": ncclCommInitRank");
    DPST_CUDA_OK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    scratch_ = torch::zeros({1}, torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA, device_index_));
  }
  ~NcclComm() override {
    ncclCommDestroy(comm_);
    cudaStreamDestroy(stream_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  void broadcast(torch::Tensor& tensor, int root) override {
    check_tensor(tensor, "broadcast");
    enqueue([&] {
      return ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), nccl_type_of(tensor), root, comm_, stream_);
    }, "broadcast");
    host_wait("broadcast");
  }

  void allreduce_mean(torch::Tensor& tensor) override {
    allreduce_mean_async(tensor, "all-reduce")->wait();
    host_wait("all-reduce");
  }

  std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor tensor, const std::string& what) override {
    check_tensor(tensor, what);
    enqueue([&] {
      return ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), nccl_type_of(tensor), ncclAvg, comm_, stream_);
    }, what);
    cudaEvent_t done;
    DPST_CUDA_OK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), what);
    DPST_CUDA_OK(cudaEventRecord(done, stream_), what);
    return std::make_unique<NcclPending>(tensor, done, c10::cuda::getCurrentCUDAStream(device_index_));
  }

  int64_t allreduce_max(int64_t value, const std::string& what) override {
    scratch_.fill_(value);
    enqueue([&] { return ncclAllReduce(scratch_.data_ptr(), scratch_.data_ptr(), 1, ncclInt64, ncclMax, comm_, stream_); },
            what);
    host_wait(what);
    return scratch_.item<int64_t>();
  }

  void barrier(const std::string& what) override { allreduce_max(0, what); }

 private:
  void check_tensor(const torch::Tensor& t, const std::string& what) const {
    DPST_CHECK(t.is_cuda(), InternalError, what << ": the NCCL backend takes CUDA tensors, got " << t.device());
    DPST_CHECK(t.is_contiguous(), InternalError, what << ": tensor must be contiguous");
  }

  // Orders the collective after all work already queued on the compute stream.
  template <typename Call>
  void enqueue(Call&& call, const std::string& what) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index_));
    cudaEvent_t ready;
    DPST_CUDA_OK(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming), what);
    DPST_CUDA_OK(cudaEventRecord(ready, c10::cuda::getCurrentCUDAStream(device_index_).stream()), what);
    DPST_CUDA_OK(cudaStreamWaitEvent(stream_, ready, 0), what);
    cudaEventDestroy(ready);
    DPST_NCCL_OK(call(), "rank " << rank_ << ": " << what);
  }

  void host_wait(const std::string& what) {
    cudaEvent_t done;
    DPST_CUDA_OK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming), what);
    DPST_CUDA_OK(cudaEventRecord(done, stream_), what);
    try {
      wait_event(done, options_.timeout_s, rank_, what, comm_);
    } catch (...) {
      cudaEventDestroy(done);
      throw;
    }
    // The host saw it finish, so work queued from now on is ordered after it.
    cudaEventDestroy(done);
  }

  int device_index_;
  CommOptions options_;
  int rank_ = 0;
  int size_ = 1;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  torch::Tensor scratch_;
};

}  // namespace

static_assert(sizeof(ncclUniqueId) == std::tuple_size<NcclId>::value, "NcclId must hold an ncclUniqueId");

NcclId new_nccl_id() {
  ncclUniqueId id;
  DPST_NCCL_OK(ncclGetUniqueId(&id), "ncclGetUniqueId");
  NcclId bytes;
  std::memcpy(bytes.data(), &id, sizeof id);
  return bytes;
}

std::unique_ptr<Comm> make_nccl_comm(int rank, int size, const NcclId& id, int device_index, const CommOptions& options) {
  return std::make_unique<NcclComm>(rank, size, id, device_index, options);
}

}  // namespace dpst::dist
