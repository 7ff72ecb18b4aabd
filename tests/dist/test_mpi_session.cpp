// Runs under mpirun -np 2 and -np 3 (see CMakeLists.txt).
#include <gtest/gtest.h>
#include <mpi.h>

#include "common/logging.h"

namespace dpst {
namespace {

TEST(MpiSession, RanksAndNodeLocalRanksAreConsistent) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  ASSERT_GE(size, 2);
  EXPECT_EQ(logging::rank(), rank);
  EXPECT_EQ(logging::world_size(), size);
  // All ranks of a test run share one node here, so local rank == world rank.
  int local = -1;
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  EXPECT_EQ(local, rank);
  // Every rank's tag is distinct and carries its number.
  EXPECT_EQ(logging::rank_tag(), "[rank " + std::to_string(rank) + "]");
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  EXPECT_EQ(sum, size * (size - 1) / 2);
}

}  // namespace
}  // namespace dpst
