// MpiSession without MPI (the solo flavour of src/dist, for machines that have no MPI
// runtime, such as the GPU bundle's: launch/device/). The process is a world of one;
// a launcher that started several copies of it would get several independent jobs, so
// the constructor refuses to run under one.
#include <cstdlib>

#include "common/errors.h"
#include "dist/mpi_session.h"

namespace dpst::dist {

namespace {

// The variables that mpirun (Open MPI, MPICH/Hydra, PMIx) and srun set in every rank.
int launcher_world_size() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS"}) {
    if (const char* value = std::getenv(name)) {
      const int size = std::atoi(value);
      if (size > 1) return size;
    }
  }
  return 1;
}

}  // namespace

MpiSession::MpiSession(int*, char***) {
  const int launched = launcher_world_size();
  DPST_CHECK(launched == 1, ConfigError,
             "this dpst was built without MPI (one process only: the GPU bundle's build), but a launcher started "
                 << launched << " ranks; use the MPI build (build/bin) under mpirun/srun");
}

MpiSession::~MpiSession() = default;

void MpiSession::barrier(const std::string&, double) const {}

std::vector<int64_t> MpiSession::sum(const std::vector<int64_t>& mine, const std::string&, double) const { return mine; }

std::string MpiSession::library_version() { return "none (built without MPI: one process)"; }

void MpiSession::abort_job(int exit_code) { std::_Exit(exit_code); }

}  // namespace dpst::dist
