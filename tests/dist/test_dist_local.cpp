// Single-process parts of src/dist: the do-nothing backend, device choice, threads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/nn.h>

#include "common/errors.h"
#include "dist/comm.h"
#include "dist/mpi_comm.h"
#include "dist/device.h"
#include "dist/grad_reducer.h"

namespace dpst::dist {
namespace {

TEST(SingleProcessComm, EveryCallLeavesDataAlone) {
  auto comm = make_single_process_comm();
  EXPECT_EQ(comm->size(), 1);
  auto t = torch::arange(6, torch::kFloat);
  comm->allreduce_mean(t);
  comm->broadcast(t, 0);
  comm->allreduce_mean_async(t, "x")->wait();
  EXPECT_TRUE(torch::equal(t, torch::arange(6, torch::kFloat)));
  EXPECT_EQ(comm->allreduce_max(5, "x"), 5);
}

TEST(SingleProcessComm, ReducerInstallsNothing) {
  auto comm = make_single_process_comm();
  torch::nn::Linear lin(3, 2);
  GradientReducer reducer(lin->parameters(), *comm, 25, "t");
  EXPECT_FALSE(reducer.active());
  EXPECT_EQ(reducer.num_buckets(), 0u);
  reducer.begin_backward();
  lin->forward(torch::ones({1, 3})).sum().backward();
  reducer.finish_backward();
  EXPECT_TRUE(torch::equal(lin->bias.grad(), torch::ones({2})));
}

TEST(Device, CpuAndAutoWithoutCuda) {
  EXPECT_TRUE(select_device("cpu", "train.device", 0, 1).is_cpu());
  EXPECT_EQ(describe_device("cpu", "train.device", torch::kCPU), "cpu");
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU: auto picks it";
  EXPECT_TRUE(select_device("auto", "train.device", 1, 2).is_cpu());
  EXPECT_EQ(describe_device("auto", "train.device", torch::kCPU), "cpu (train.device auto: no CUDA device)");
}

TEST(Device, CudaWithoutAGpuNamesTheDeviceAndTheKey) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU";
  for (const std::string key : {"train.device", "--device"}) {
    try {
      select_device("cuda", key, 0, 1);
      FAIL() << key;
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(key + " is cuda but this "));
#ifdef DPST_HAVE_CUDA
      EXPECT_THAT(e.what(), ::testing::HasSubstr("has no CUDA device that this process can use"));
#else
      EXPECT_THAT(e.what(), ::testing::HasSubstr("built without CUDA"));
#endif
      EXPECT_THAT(e.what(), ::testing::HasSubstr("Use " + key + " cpu"));
    }
  }
}

TEST(Threads, ExplicitWinsElseCoresPerRank) {
  EXPECT_EQ(threads_per_rank(3, 8), 3);
  EXPECT_GE(threads_per_rank(0, 1), 1);
  EXPECT_EQ(threads_per_rank(0, 100000), 1);
}

TEST(NcclComm, WithoutNcclTheErrorSaysHowToGetIt) {
#ifndef DPST_HAVE_NCCL
  try {
    make_nccl_comm(MPI_COMM_SELF, 0, {});
    FAIL();
  } catch (const DistributedError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("built without NCCL"));
  }
#else
  GTEST_SKIP() << "built with NCCL";
#endif
}

}  // namespace
}  // namespace dpst::dist
