// GPU-only tests (label gpu), in the ctest suite and, linked against the solo flavour, in
// the GPU bundle (build/device/bin/test_gpu; launch/device/run.sh runs it on the GPU
// machine): NCCL on a communicator of one, f_W on CUDA, the refusal of two ranks on one
// GPU, and dpst-dist training on cuda in fp32 and bf16. Without a GPU each case skips
// and says why; ctest reports them as skipped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/cuda.h>

#include "common/errors.h"
#include "dist/comm.h"
#include "dist/device.h"
#include "models/models.h"
#include "train/training_fixture.h"

namespace dpst::test {
namespace {

using ::testing::HasSubstr;

#define DPST_SKIP_WITHOUT_GPU()                                                                         \
  if (!torch::cuda::is_available())                                                                     \
  GTEST_SKIP() << "no CUDA device on this machine: the gpu tests run where one is (ctest -L gpu)"

TEST(Gpu, NcclCommOnOneRankReducesBroadcastsAndAgrees) {
  DPST_SKIP_WITHOUT_GPU();
#ifndef DPST_HAVE_NCCL
  GTEST_SKIP() << "dpst was built without NCCL";
#else
  auto comm = dist::make_nccl_comm_of_one(0, dist::CommOptions{30});
  EXPECT_EQ(comm->backend(), "nccl");
  EXPECT_EQ(comm->size(), 1);
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
  // cuDNN may run fp32 convolutions in TF32 (PyTorch's default): 10-bit mantissas.
  EXPECT_LT(((on_gpu - on_cpu).abs().max() / on_cpu.abs().max()).item<double>(), 1e-2);
}

TEST(Gpu, RefusesTwoRanksOnOneGpu) {
  DPST_SKIP_WITHOUT_GPU();
  const int gpus = static_cast<int>(torch::cuda::device_count());
  EXPECT_TRUE(dist::select_device("cuda", "train.device", 0, gpus).is_cuda());
  try {
    dist::select_device("cuda", "train.device", 0, gpus + 1);
    FAIL() << "two ranks were allowed on one GPU";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("would share GPU 0"));
  }
}

class GpuTraining : public TrainingTest {};

TEST_F(GpuTraining, TrainsOnCudaAsOnTheCpu) {
  DPST_SKIP_WITHOUT_GPU();
  const std::string steps = "--set train.iterations=6";
  const auto gpu = train(0, out_ / "cuda", steps + " --set train.device=cuda");
  ASSERT_EQ(gpu.exit_code, 0) << gpu.err;
  EXPECT_THAT(gpu.err, HasSubstr("cuda:0"));
  const auto cpu = train(0, out_ / "cpu", steps);
  ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
  const auto a = step_totals(out_ / "cuda" / "t"), b = step_totals(out_ / "cpu" / "t");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  // Same start, same batch: the first loss agrees up to TF32 convolutions.
  EXPECT_LT(std::abs(a.front() - b.front()) / b.front(), 1e-2) << "cuda " << a.front() << " cpu " << b.front();
  EXPECT_LT(relative_error(weights(out_ / "cuda" / "t" / "model.h5"), weights(out_ / "cpu" / "t" / "model.h5")), 1e-2);
}

TEST_F(GpuTraining, Bf16StaysWithinTwoPercentOfFp32OnCuda) {
  DPST_SKIP_WITHOUT_GPU();
  // As the CPU test (test_training.cpp): lr 2e-4 keeps the 32-px run from being chaotic.
  const std::string steps =
      "--set train.device=cuda --set train.iterations=60 --set train.checkpoint_every=60 --set optim.lr=2e-4";
  const auto fp32 = train(0, out_ / "fp32", steps);
  ASSERT_EQ(fp32.exit_code, 0) << fp32.err;
  const auto bf16 = train(0, out_ / "bf16", steps + " --set train.precision=bf16");
  ASSERT_EQ(bf16.exit_code, 0) << bf16.err;
  expect_bf16_tracks_fp32(out_ / "fp32" / "t", out_ / "bf16" / "t", 60);
}

}  // namespace
}  // namespace dpst::test
