// Which device a rank computes on: train.device (auto|cpu|cuda) and the node-local rank.
#pragma once

#include <string>

#include <torch/types.h>

namespace dpst::dist {

// auto: GPU <local_rank> when CUDA is available, else CPU. cuda: GPU <local_rank>, an
// error when there is no GPU or when more ranks than GPUs run on this node (two ranks
// on one GPU would share its memory and serialise NCCL; the message says so).
// `key` names where the setting came from ("train.device", "--device") for the errors.
torch::Device select_device(const std::string& setting, const std::string& key, int local_rank, int local_size);

// What the settings table shows for the device: its name, and for `auto` what it found,
// e.g. "cpu (train.device auto: no CUDA device)".
std::string describe_device(const std::string& setting, const std::string& key, const torch::Device& device);

// Intra-op threads per rank: `requested` when given, else cores on the node / ranks on
// the node (at least 1).
int threads_per_rank(int requested_or_zero, int local_size);

}  // namespace dpst::dist
