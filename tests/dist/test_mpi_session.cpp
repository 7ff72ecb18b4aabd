// Runs under mpirun -np 2 and -np 3 (see CMakeLists.txt).
#include <gtest/gtest.h>
#include <mpi.h>

#include <chrono>

#include "common/errors.h"
#include "common/logging.h"
#include "dist/mpi_session.h"

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

// A check that fails on one rank only (a node without enough GPUs) fails on every rank
// at once, as a ConfigError: none waits in a later collective for the rank that stopped.
TEST(MpiSession, ACheckFailingOnOneRankFailsOnEveryRank) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  // A session object for the helpers (MPI is already initialised by main()).
  static dist::MpiSession mpi(nullptr, nullptr);
  const auto start = std::chrono::steady_clock::now();
  try {
    dist::check_on_every_rank(mpi, "choosing each rank's device", 60.0, [&] {
      if (rank == size - 1) DPST_THROW(ConfigError, "train.device: cuda, but this node has no GPU for local rank 1");
    });
    ADD_FAILURE() << "rank " << rank << ": expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (rank == size - 1) {
      EXPECT_NE(what.find("this node has no GPU"), std::string::npos) << what;
    } else {
      EXPECT_NE(what.find("choosing each rank's device failed on 1 of " + std::to_string(size) + " rank(s)"),
                std::string::npos)
          << what;
    }
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
  // Passing everywhere changes nothing.
  EXPECT_NO_THROW(dist::check_on_every_rank(mpi, "a check", 60.0, [] {}));
  // Element-wise sums over the ranks.
  const auto total = mpi.sum({1, rank}, "a test sum", 60.0);
  EXPECT_EQ(total, (std::vector<int64_t>{size, size * (size - 1) / 2}));
}

}  // namespace
}  // namespace dpst
