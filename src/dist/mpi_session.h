// MPI bootstrap owned by a main: MPI_Init_thread in the constructor, MPI_Finalize in the
// destructor. A process started without mpirun/srun is a world of one.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace dpst::dist {

class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;

  int world_rank() const { return world_rank_; }
  int world_size() const { return world_size_; }
  int local_rank() const { return local_rank_; }  // rank among processes on this node
  int local_size() const { return local_size_; }

  // Every world rank waits here for the others, at most timeout_s (train.collective_timeout_s);
  // then DistributedError names this rank and `what`. Free for a world of one.
  void barrier(const std::string& what, double timeout_s) const;
  // Element-wise sums of `mine` over the world ranks (same length everywhere), waiting at
  // most timeout_s (infinity: as long as it takes). `mine` itself for a world of one.
  std::vector<int64_t> sum(const std::vector<int64_t>& mine, const std::string& what, double timeout_s) const;

  // "Open MPI v4.1.4 (MPI 3.1)": the MPI library's version (callable before MPI_Init).
  static std::string library_version();

  // Ends every rank of the job at once (MPI_Abort). For unrecoverable errors on one rank.
  [[noreturn]] static void abort_job(int exit_code);

 private:
  int world_rank_ = 0;
  int world_size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  int thread_level_ = 0;
  bool owns_init_ = false;
};

// Runs `check` on every rank; if it throws ConfigError on any rank (a check whose outcome
// can differ between nodes, such as the GPUs a node has), every rank throws ConfigError,
// so none is left waiting in a collective for ranks that have stopped. A failing rank
// other than 0 logs its own message first (the job prints rank 0's).
void check_on_every_rank(const MpiSession& mpi, const std::string& what, double timeout_s,
                         const std::function<void()>& check);

}  // namespace dpst::dist
