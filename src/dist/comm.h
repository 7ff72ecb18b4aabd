// Collective communication inside one rank group, behind one small interface.
// Backends: SingleProcessComm (a group of one: every call returns at once and touches
// nothing), MpiComm (CPU tensors, MPI; comm_mpi.cpp), NcclComm (CUDA tensors;
// comm_nccl.cpp, built only with CUDA + NCCL). src/dist builds in two flavours: over MPI
// (*_mpi.cpp: mpirun/srun, any number of ranks) and without MPI (*_solo.cpp: a world of
// one, for machines that have no MPI, such as the GPU bundle's; launch/device/).
// Sizes are element counts, never byte counts. Every blocking call
// honours the collective timeout and throws DistributedError naming the rank and the
// operation instead of hanging. Outside src/dist, make_group_comm is the only way to a
// Comm; <mpi.h> stays inside src/dist (dist/mpi_comm.h has the MPI_Comm-level factories).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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

// NCCL without MPI: its unique id as plain bytes (NCCL_UNIQUE_ID_BYTES), so that callers
// need no nccl.h and any channel can carry it (MPI_Bcast in the MPI flavour).
using NcclId = std::array<char, 128>;
// A fresh unique id (on one rank of the group). DistributedError without NCCL.
NcclId new_nccl_id();
// NCCL over `size` ranks that all hold the same `id`, for CUDA tensors on `device_index`.
// DistributedError when dpst was built without NCCL.
std::unique_ptr<Comm> make_nccl_comm(int rank, int size, const NcclId& id, int device_index, const CommOptions& options);
// NCCL on a communicator of one rank (needs no other process).
std::unique_ptr<Comm> make_nccl_comm_of_one(int device_index, const CommOptions& options);

// Forms the rank group of every world rank that passes the same `color` (ordered by world
// rank, marian's createCommunicator) and returns an owning Comm over it: single-process
// for a group of one, NCCL for a CUDA device, MPI otherwise. The group's MPI
// communicator is freed with the Comm. Collective over the world: every rank calls it.
// Without MPI the world is one process, so the group is too.
std::unique_ptr<Comm> make_group_comm(int color, const torch::Device& device, const CommOptions& options);

// Checksum of tensors' bytes (FNV-1a over the raw data), to prove ranks hold identical weights.
uint64_t checksum(const std::vector<torch::Tensor>& tensors);

// True on every rank iff every rank of the group holds bit-identical `tensors` (a
// checksum agreement: two max-reductions, no tensor traffic). *checksum_out gets this
// rank's checksum, for the log.
bool identical_on_all_ranks(Comm& comm, const std::vector<torch::Tensor>& tensors, uint64_t* checksum_out,
                            const std::string& what);

}  // namespace dpst::dist
