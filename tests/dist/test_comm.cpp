// The MPI backend of Comm under mpirun -np 2 and -np 3.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <thread>

#include "common/errors.h"
#include "dist/comm.h"
#include "dist/mpi_comm.h"
#include "dist/mpi_session.h"

namespace dpst::dist {
namespace {

struct Group {
  int rank = 0, size = 1;
  Group() {
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
  }
};

TEST(MpiComm, BroadcastFromEveryRoot) {
  Group g;
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  EXPECT_EQ(comm->backend(), "mpi");
  for (int root = 0; root < g.size; ++root) {
    auto t = torch::full({5, 3}, static_cast<float>(g.rank * 10 + 1));
    comm->broadcast(t, root);
    EXPECT_TRUE(torch::equal(t, torch::full({5, 3}, static_cast<float>(root * 10 + 1))));
  }
}

TEST(MpiComm, AllreduceMeanAveragesOverRanks) {
  Group g;
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  auto t = torch::arange(12, torch::kFloat).reshape({3, 4}) * (g.rank + 1);
  comm->allreduce_mean(t);
  const float mean_factor = (g.size + 1) / 2.0f;  // mean of 1..size
  EXPECT_TRUE(torch::allclose(t, torch::arange(12, torch::kFloat).reshape({3, 4}) * mean_factor));
  auto d = torch::full({7}, static_cast<double>(g.rank));
  comm->allreduce_mean(d);
  EXPECT_DOUBLE_EQ(d[3].item<double>(), (g.size - 1) / 2.0);
}

TEST(MpiComm, AsyncReduceCompletesOnWait) {
  Group g;
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  auto a = torch::full({1000}, static_cast<float>(g.rank));
  auto b = torch::full({10}, 2.0f);
  auto pa = comm->allreduce_mean_async(a, "a");
  auto pb = comm->allreduce_mean_async(b, "b");
  pb->wait();
  pa->wait();
  EXPECT_FLOAT_EQ(a[999].item<float>(), (g.size - 1) / 2.0f);
  EXPECT_FLOAT_EQ(b[0].item<float>(), 2.0f);
}

TEST(MpiComm, MaxAndBarrier) {
  Group g;
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  EXPECT_EQ(comm->allreduce_max(g.rank == 1 ? 7 : 0, "signal flag"), 7);
  EXPECT_NO_THROW(comm->barrier("test barrier"));
}

TEST(MpiComm, CpuOnlyAndContiguousOnly) {
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  auto t = torch::zeros({4, 4}).t();
  EXPECT_THROW(comm->allreduce_mean(t), InternalError);
}

TEST(MpiComm, ChecksumsAgreeAfterBroadcast) {
  Group g;
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});
  torch::manual_seed(100 + g.rank);  // different on purpose
  std::vector<torch::Tensor> weights = {torch::randn({8, 3}), torch::randn({5})};
  for (auto& w : weights) comm->broadcast(w, 0);
  const int64_t mine = static_cast<int64_t>(checksum(weights) >> 1);
  EXPECT_EQ(comm->allreduce_max(mine, "checksum"), mine);
}

TEST(MpiComm, ACollectiveThatNeverCompletesTimesOutNamingRankAndOperation) {
  Group g;
  MPI_Comm dup;
  MPI_Comm_dup(MPI_COMM_WORLD, &dup);
  CommOptions options;
  options.timeout_s = 0.5;
  auto comm = make_mpi_comm(dup, options);
  auto t = torch::ones({16});
  if (g.rank == 0) {
    auto pending = comm->allreduce_mean_async(t, "gradient bucket 3");
    try {
      pending->wait();
      ADD_FAILURE() << "expected a timeout";
    } catch (const DistributedError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("rank 0: gradient bucket 3 did not complete within 0.5 s "
                                                 "(train.collective_timeout_s); another rank has died or hangs"));
    }
    MPI_Barrier(MPI_COMM_WORLD);  // now let the others join, so the request can finish
    pending->wait();
  } else {
    MPI_Barrier(MPI_COMM_WORLD);  // arrive late, after rank 0 timed out
    auto pending = comm->allreduce_mean_async(t, "gradient bucket 3");
    pending->wait();
  }
  EXPECT_FLOAT_EQ(t[0].item<float>(), 1.0f);
  comm.reset();
  MPI_Comm_free(&dup);
}

TEST(GroupComm, FormsGroupsByColourAndOwnsThem) {
  Group g;
  // Two groups: even and odd world ranks (with 3 ranks: {0, 2} and {1}).
  const int colour = g.rank % 2;
  auto comm = make_group_comm(colour, torch::kCPU, {});
  const int expected_size = colour == 0 ? (g.size + 1) / 2 : g.size / 2;
  EXPECT_EQ(comm->size(), expected_size);
  EXPECT_EQ(comm->rank(), g.rank / 2);
  EXPECT_EQ(comm->backend(), expected_size == 1 ? "none (single process)" : "mpi");
  // The mean runs inside the group only: the group's world ranks, averaged.
  auto t = torch::full({3}, static_cast<double>(g.rank));
  comm->allreduce_mean(t);
  double mean = 0;
  for (int r = colour; r < g.size; r += 2) mean += r;
  EXPECT_DOUBLE_EQ(t[0].item<double>(), mean / expected_size);
  EXPECT_NO_THROW(comm->barrier("group barrier"));
}

TEST(GroupComm, IdenticalOnAllRanksSeesOneDifferentRank) {
  Group g;
  auto comm = make_group_comm(0, torch::kCPU, {});
  std::vector<torch::Tensor> same = {torch::arange(10, torch::kFloat), torch::ones({2, 2})};
  uint64_t sum = 0;
  EXPECT_TRUE(identical_on_all_ranks(*comm, same, &sum, "weights"));
  EXPECT_EQ(sum, checksum(same));
  std::vector<torch::Tensor> last_differs = {torch::arange(10, torch::kFloat), torch::ones({2, 2})};
  if (g.rank == g.size - 1) last_differs[1][1][1] = 2.0f;
  EXPECT_FALSE(identical_on_all_ranks(*comm, last_differs, &sum, "weights")) << "every rank must learn of it";
}

TEST(WorldBarrier, TimesOutNamingRankAndWhat) {
  Group g;
  dist::MpiSession mpi(nullptr, nullptr);  // MPI is initialised already: this one only reads the world
  if (g.rank == 0) {
    try {
      mpi.barrier("waiting for the run folder", 0.5);
      ADD_FAILURE() << "expected a timeout";
    } catch (const DistributedError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("rank 0: waiting for the run folder did not complete within 0.5 s "
                                                 "(train.collective_timeout_s)"));
    }
    MPI_Barrier(MPI_COMM_WORLD);  // the others arrive only now
  } else {
    MPI_Barrier(MPI_COMM_WORLD);
    EXPECT_NO_THROW(mpi.barrier("waiting for the run folder", 30));  // rank 0's posted barrier completes it
  }
}

}  // namespace
}  // namespace dpst::dist
