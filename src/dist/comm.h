// Collective communication inside one rank group, behind one small interface.
// Backends: SingleProcessComm (a group of one: every call returns at once and touches
// nothing), MpiComm (CPU tensors, MPI), NcclComm (CUDA tensors; comm_nccl.cpp, built only
// with CUDA + NCCL). Sizes are element counts, never byte counts. Every blocking call
// honours the collective timeout and throws DistributedError naming the rank and the
// operation instead of hanging.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>

#include <torch/types.h>

namespace dpst::dist {

// An all-reduce in flight. wait() finishes it (and averages, for means).
class PendingReduce {
 public:
  virtual ~PendingReduce() = default;
  virtual bool test() = 0;  // true once complete; drives progress without blocking
  virtual void wait() = 0;
};

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;

  // In place: every rank ends with root's values.
  virtual void broadcast(torch::Tensor& tensor, int root) = 0;
  // In place: every rank ends with the mean over ranks.
  virtual void allreduce_mean(torch::Tensor& tensor) = 0;
  // Starts an in-place mean all-reduce; `tensor` must stay alive until wait() returns.
  virtual std::unique_ptr<PendingReduce> allreduce_mean_async(torch::Tensor tensor, const std::string& what) = 0;
  // The largest of one integer per rank (e.g. "did any rank get SIGTERM?").
  virtual int64_t allreduce_max(int64_t value, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;
};

struct CommOptions {
  double timeout_s = 600;  // train.collective_timeout_s
};

// A group of one: no communication at all.
std::unique_ptr<Comm> make_single_process_comm();

// MPI over `group` (not owned; must outlive the Comm). CPU tensors only.
std::unique_ptr<Comm> make_mpi_comm(MPI_Comm group, const CommOptions& options);

// NCCL over the ranks of `group` (unique id broadcast over it), for CUDA tensors on
// `device_index`. Throws DistributedError when dpst was built without NCCL.
std::unique_ptr<Comm> make_nccl_comm(MPI_Comm group, int device_index, const CommOptions& options);

// Picks the backend: size 1 -> single process; CUDA device -> NCCL; else MPI.
std::unique_ptr<Comm> make_comm(MPI_Comm group, const torch::Device& device, const CommOptions& options);

// Checksum of tensors' bytes (FNV-1a over the raw data), to prove ranks hold identical weights.
uint64_t checksum(const std::vector<torch::Tensor>& tensors);

}  // namespace dpst::dist
