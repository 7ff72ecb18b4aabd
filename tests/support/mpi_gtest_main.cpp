// main() for test binaries run under mpirun: MPI is initialised once for all tests,
// only rank 0 prints GoogleTest's report, and the job fails if any rank failed.
#include <gtest/gtest.h>
#include <mpi.h>

#include "common/logging.h"
#include "dist/mpi_session.h"

int main(int argc, char** argv) {
  dpst::dist::MpiSession mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  dpst::logging::init(mpi.world_rank(), mpi.world_size());
  if (mpi.world_rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int local_failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  int any_failed = 0;
  MPI_Allreduce(&local_failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (local_failed) std::fprintf(stderr, "%s tests failed on this rank\n", dpst::logging::rank_tag().c_str());
  return any_failed;
}
