// Which device a rank computes on: train.device (auto|cpu|cuda) and the node-local rank.
#pragma once

#include <string>

#include <torch/types.h>

namespace dpst::dist {

// auto: GPU <local_rank> when CUDA is available, else CPU. cuda: GPU <local_rank>, an
// error when there is no GPU or when more ranks than GPUs run on this node (two ranks
// on one GPU would share its memory and serialise NCCL; the message says so).
torch::Device select_device(const std::string& setting, int local_rank, int local_size);

// Intra-op threads per rank: `requested` when given, else cores on the node / ranks on
// the node (at least 1).
int threads_per_rank(int requested_or_zero, int local_size);

}  // namespace dpst::dist
