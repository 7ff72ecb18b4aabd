// GradientReducer under mpirun: the averaged gradients equal those of the whole global
// batch computed on one rank, for several bucket sizes.
#include <gtest/gtest.h>
#include <mpi.h>

#include <torch/nn.h>

#include "dist/comm.h"
#include "dist/mpi_comm.h"
#include "dist/grad_reducer.h"

namespace dpst::dist {
namespace {

torch::nn::Sequential make_net() {
  torch::manual_seed(7);  // identical start on every rank
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)), torch::nn::ReLU(),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 4, 3).padding(1)), torch::nn::ReLU(),
                               torch::nn::Flatten(), torch::nn::Linear(4 * 6 * 6, 2));
}

// The batch that rank r of n takes out of a fixed global batch.
torch::Tensor global_batch(int n) {
  torch::manual_seed(1234);
  return torch::randn({2 * n, 3, 6, 6});
}

class GradReducerTest : public ::testing::TestWithParam<double> {};

TEST_P(GradReducerTest, MatchesTheGlobalBatchOnOneRank) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  auto comm = make_mpi_comm(MPI_COMM_WORLD, {});

  auto x = global_batch(size);
  // Reference: one process, the whole global batch, mean loss.
  auto ref = make_net();
  ref->forward(x).pow(2).mean().backward();

  auto net = make_net();
  std::vector<torch::Tensor> params = net->parameters();
  GradientReducer reducer(params, *comm, GetParam(), "trial t0");
  EXPECT_TRUE(reducer.active());
  for (int step = 0; step < 2; ++step) {  // twice: buckets re-arm every step
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    reducer.begin_backward();
    net->forward(x.narrow(0, 2 * rank, 2)).pow(2).mean().backward();
    reducer.finish_backward();
    const auto ref_params = ref->parameters();
    for (size_t k = 0; k < params.size(); ++k) {
      const auto diff = (params[k].grad() - ref_params[k].grad()).abs().max().item<float>();
      const auto scale = ref_params[k].grad().abs().max().item<float>();
      EXPECT_LE(diff, 1e-5f * std::max(scale, 1.0f)) << "parameter " << k << " step " << step;
    }
  }
  // finish_backward always waits for the last bucket's all-reduce, so it is never 0.
  EXPECT_GT(reducer.exposed_ms(), 0.0);
  if (GetParam() < 0.001) {
    EXPECT_EQ(reducer.num_buckets(), params.size());  // tiny buckets: one tensor each
  } else {
    EXPECT_EQ(reducer.num_buckets(), 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(BucketSizes, GradReducerTest, ::testing::Values(1e-6, 25.0));

}  // namespace
}  // namespace dpst::dist
