// The MPI_Comm-level factories behind make_group_comm, for src/dist itself and for the
// distributed tests that build a Comm over MPI_COMM_WORLD. Code outside src/dist uses
// dist/comm.h's make_group_comm and never sees <mpi.h>.
#pragma once

#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "dist/comm.h"

namespace dpst::dist {

// MPI over `group` (not owned; must outlive the Comm). CPU tensors only.
std::unique_ptr<Comm> make_mpi_comm(MPI_Comm group, const CommOptions& options);

// NCCL over the ranks of `group` (unique id broadcast over it), for CUDA tensors on
// `device_index`. Throws DistributedError when dpst was built without NCCL.
std::unique_ptr<Comm> make_nccl_comm(MPI_Comm group, int device_index, const CommOptions& options);

// Picks the backend over `group` (not owned): size 1 -> single process; CUDA -> NCCL; else MPI.
std::unique_ptr<Comm> make_comm(MPI_Comm group, const torch::Device& device, const CommOptions& options);

// This process's world rank for error messages: -1 when MPI cannot say (its return code
// is checked that way, since the error being reported is the more useful one).
int world_rank_for_messages();

// MPI's text for an error code.
std::string mpi_error_text(int code);

// Throws DistributedError "rank R: <what> failed: <MPI's text>" unless rc is MPI_SUCCESS.
void check_mpi(int rc, int rank, const std::string& what);

// Waits for requests until done or timeout_s passes; throws DistributedError naming the
// rank, the operation and train.collective_timeout_s on a timeout.
void wait_with_timeout(std::vector<MPI_Request>& requests, double timeout_s, int rank, const std::string& what);

}  // namespace dpst::dist
