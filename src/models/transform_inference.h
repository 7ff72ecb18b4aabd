// f_W's inference path on the CPU (dpst-stylize's work): TransformNetImpl::forward, bit for
// bit, with fewer passes over memory. Training and every other device keep the module.
//
// What it does differently (results/stylize.md has the per-layer profile):
//  - every activation lives in a buffer that already carries the next convolution's
//    padding: the InstanceNorm (+ ReLU, + residual) pass writes its output straight into the
//    interior (nearest-upsampled x2 where the next layer upsamples) and mirrors the border in
//    place, so no reflection pad or upsample copies a full-size tensor, and no ReLU or
//    residual add takes a pass of its own;
//  - each InstanceNorm is two statistics reads and one fused write, y * alpha + beta, with
//    the statistics, alpha and beta rounded exactly as LibTorch's CPU InstanceNorm2d rounds
//    them (fused multiply-adds where its AVX2/AVX512 kernels use them); with given statistics
//    (kApply, kRecord) it is instance_norm_with's (y - mean) * scale + bias;
//  - every conv is the module's own at::conv2d on the same values.
// So the output equals the module's exactly. Faster variants were built and left out
// because they do not (results/stylize.md): subpixel deconv1/deconv2 (four 2x2 phase convs
// on the input, 2.25x fewer MACs), space-to-depth deconv3 and channels-last buffers each sum
// in another order, and f_W amplifies such rounding to 1.1e-5 to 1.4e-5 on [0, 1].
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "models/transform_net.h"

namespace dpst::models {

class TransformNetInference {
 public:
  // Copies `net`'s weights into the layouts above; later changes to `net` are not seen.
  explicit TransformNetInference(const TransformNetImpl& net);

  // Whether forward can take `x`: one float image on the CPU, each side a multiple of 4 and
  // at least 8 (eval/stylize.h pads to that).
  static bool supports(const torch::Tensor& x);

  // Wall time of each step of one forward, in order: "conv1" (its conv), "in1" (the norm
  // pass with its ReLU, residual and border), ... (tests/bench/bench_fw_layers).
  using StepTimes = std::vector<std::pair<std::string, double>>;

  // TransformNetImpl::forward(x, mode, stats): (1, 3, H, W) in, (1, 3, H, W) out (NCHW).
  torch::Tensor forward(const torch::Tensor& x, NormStatsMode mode, InstanceNormStats& stats,
                        StepTimes* times = nullptr) const;

  // The same forward in three stages, for passes that stop early or resume from the
  // residual blocks' activations (eval/stylize.cpp's tiled statistics): head (conv1..in3),
  // residual block b, tail (deconv1..deconv3); forward = tail(block(... block(head(x)))).
  //
  // What a stage does at InstanceNorm k (k counts in forward order over the whole net):
  // `mode` with `stats` as in forward (kRecord appends in order, kApply reads entry k). With
  // `measure` >= 0, norm `measure` is not applied: its input's per-channel sum and sum of
  // squares over `core` (top, left, height, width in pixels of the stage's full-size image;
  // multiples of 4) are added to sum / sum_sq (double) and count, `stopped` is set and the
  // stage returns an empty result.
  struct NormPass {
    NormStatsMode mode = NormStatsMode::kOwn;
    InstanceNormStats* stats = nullptr;
    StepTimes* times = nullptr;
    int64_t measure = -1;
    std::array<int64_t, 4> core{};
    torch::Tensor sum, sum_sq;
    int64_t count = 0;
    bool stopped = false;
  };
  // The residual blocks' input or output: quarter-size activations in a padded
  // buffer; height and width are those of the full-size image.
  struct Quarter {
    torch::Tensor buffer;
    int64_t height = 0, width = 0;
  };
  Quarter head(const torch::Tensor& x, NormPass& pass) const;
  Quarter block(int64_t b, const Quarter& y, NormPass& pass) const;  // b in [0, residual_blocks)
  torch::Tensor tail(const Quarter& y, NormPass& pass) const;
  const TransformNetOptions& options() const { return options_; }

 private:
  friend struct InferencePass;  // one pass's layers (transform_inference.cpp)
  void check_pass(const NormPass& pass) const;
  struct Norm {
    std::string name;
    torch::Tensor weight, bias;  // (C) float
    double eps;
  };
  struct Conv {
    std::string name;
    torch::Tensor weight, bias;  // the module's, as at::conv2d takes them
    int64_t stride;
  };
  TransformNetOptions options_;
  Conv conv1_, conv2_, conv3_, up1_, up2_, out_;
  std::vector<Conv> res_convs_;  // conv1, conv2 of each block
  std::vector<Norm> norms_;      // in1, in2, in3, res*.in1, res*.in2, in4, in5 (forward order)
};

}  // namespace dpst::models
