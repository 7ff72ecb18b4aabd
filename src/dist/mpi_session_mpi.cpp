#include "dist/mpi_session.h"

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/errors.h"
#include "dist/mpi_comm.h"

namespace dpst::dist {

MpiSession::MpiSession(int* argc, char*** argv) {
  int initialized = 0;
  check_mpi(MPI_Initialized(&initialized), -1, "MPI_Initialized");
  if (!initialized) {
    // MULTIPLE: the gradient reducer may post MPI calls from autograd's thread while the
    // training thread also communicates.
    const int rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_);
    DPST_CHECK(rc == MPI_SUCCESS, DistributedError, "MPI_Init_thread failed with code " << rc);
    owns_init_ = true;
  } else {
    check_mpi(MPI_Query_thread(&thread_level_), -1, "MPI_Query_thread");
  }
  // Errors come back as return codes so dpst can report them with context.
  check_mpi(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), -1, "setting the world's error handler");
  check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &world_rank_), -1, "MPI_Comm_rank of the world");
  check_mpi(MPI_Comm_size(MPI_COMM_WORLD, &world_size_), world_rank_, "MPI_Comm_size of the world");
  // Several ranks need MULTIPLE: a library that grants less would let the reducer's
  // calls from autograd's thread race the training thread's.
  DPST_CHECK(world_size_ == 1 || thread_level_ >= MPI_THREAD_MULTIPLE, DistributedError,
             "rank " << world_rank_ << ": the MPI library grants thread level " << thread_level_
                     << " but dpst needs MPI_THREAD_MULTIPLE (" << MPI_THREAD_MULTIPLE
                     << ") for its gradient all-reduces from autograd's thread; use an MPI built with thread "
                        "support (Debian's Open MPI is)");
  MPI_Comm node = MPI_COMM_NULL;
  check_mpi(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank_, MPI_INFO_NULL, &node), world_rank_,
            "finding the ranks on this node (MPI_Comm_split_type)");
  check_mpi(MPI_Comm_rank(node, &local_rank_), world_rank_, "MPI_Comm_rank on this node");
  check_mpi(MPI_Comm_size(node, &local_size_), world_rank_, "MPI_Comm_size on this node");
  check_mpi(MPI_Comm_free(&node), world_rank_, "MPI_Comm_free of the node communicator");
}

MpiSession::~MpiSession() {
  int finalized = 0;
  if (MPI_Finalized(&finalized) != MPI_SUCCESS || finalized || !owns_init_) return;
  // A destructor cannot throw; the job is ending anyway.
  if (MPI_Finalize() != MPI_SUCCESS) std::fprintf(stderr, "rank %d: MPI_Finalize failed\n", world_rank_);
}

void MpiSession::barrier(const std::string& what, double timeout_s) const {
  if (world_size_ == 1) return;
  MPI_Request request;
  check_mpi(MPI_Ibarrier(MPI_COMM_WORLD, &request), world_rank_, what);
  std::vector<MPI_Request> requests{request};
  wait_with_timeout(requests, timeout_s, world_rank_, what);
}

std::vector<int64_t> MpiSession::sum(const std::vector<int64_t>& mine, const std::string& what, double timeout_s) const {
  if (world_size_ == 1) return mine;
  std::vector<int64_t> total(mine.size(), 0);
  MPI_Request request;
  check_mpi(MPI_Iallreduce(mine.data(), total.data(), static_cast<int>(mine.size()), MPI_INT64_T, MPI_SUM,
                           MPI_COMM_WORLD, &request),
            world_rank_, what);
  std::vector<MPI_Request> requests{request};
  wait_with_timeout(requests, timeout_s, world_rank_, what);
  return total;
}

std::string MpiSession::library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  if (MPI_Get_library_version(text, &len) != MPI_SUCCESS) return "unknown";  // callable before MPI_Init
  std::string s(text, static_cast<size_t>(len));
  const auto cut = s.find_first_of(",\n");
  if (cut != std::string::npos) s.resize(cut);
  int major = 0, minor = 0;
  if (MPI_Get_version(&major, &minor) != MPI_SUCCESS) return s;
  return s + " (MPI " + std::to_string(major) + "." + std::to_string(minor) + ")";
}

void MpiSession::abort_job(int exit_code) {
  int initialized = 0;
  // MPI_Abort does not return when it works; _Exit ends this process whatever happened.
  if (MPI_Initialized(&initialized) == MPI_SUCCESS && initialized) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

}  // namespace dpst::dist
