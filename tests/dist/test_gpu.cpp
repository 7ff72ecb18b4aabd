// GPU-only tests (label gpu): the NCCL Comm on a one-rank communicator and f_W on CUDA.
// On a machine without a GPU each skips and says why; ctest reports them as skipped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mpi.h>

#include <torch/cuda.h>

#include "dist/comm.h"
#include "dist/mpi_comm.h"
#include "models/models.h"

namespace dpst::dist {
namespace {

#define DPST_SKIP_WITHOUT_GPU()                                                                         \
  if (!torch::cuda::is_available())                                                                     \
  GTEST_SKIP() << "no CUDA device on this machine: the gpu tests run where one is (ctest -L gpu)"

TEST(Gpu, NcclCommOnOneRankReducesBroadcastsAndAgrees) {
  DPST_SKIP_WITHOUT_GPU();
#ifndef DPST_HAVE_NCCL
  GTEST_SKIP() << "dpst was built without NCCL";
#else
  int size = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  ASSERT_EQ(size, 1) << "run under mpirun -np 1";
  auto comm = make_nccl_comm(MPI_COMM_WORLD, 0, CommOptions{30});
  EXPECT_EQ(comm->backend(), "nccl");
  const auto expected = torch::arange(1000, torch::TensorOptions().dtype(torch::kFloat).device(torch::kCUDA));
  auto t = expected.clone();
  comm->allreduce_mean(t);
  EXPECT_TRUE(torch::equal(t, expected));
  comm->broadcast(t, 0);
  auto pending = comm->allreduce_mean_async(t, "async all-reduce");
  pending->wait();
  EXPECT_TRUE(torch::equal(t.cpu(), expected.cpu()));
  EXPECT_EQ(comm->allreduce_max(7, "max"), 7);
  comm->barrier("barrier");
#endif
}

TEST(Gpu, TransformNetOnCudaMatchesTheCpu) {
  DPST_SKIP_WITHOUT_GPU();
  models::TransformNet net(models::TransformNetOptions{8, 2});
  models::det_init(*net, 3);
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({2, 3, 32, 32});
  const auto on_cpu = net->forward(x);
  net->to(torch::kCUDA);
  const auto on_gpu = net->forward(x.to(torch::kCUDA)).cpu();
  EXPECT_LT(((on_gpu - on_cpu).abs().max() / on_cpu.abs().max()).item<double>(), 1e-4);
}

}  // namespace
}  // namespace dpst::dist
