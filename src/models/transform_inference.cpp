#include "models/transform_inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <torch/nn/functional.h>

#include "common/errors.h"

namespace dpst::models {
namespace {

// Where pixel (y, x) of a C-channel image lives in an NCHW buffer: channel i of it at
// at(y, x) + i * cs; a row's pixels are contiguous.
struct Plane {
  float* base;
  int64_t row, cs, channels;
  float* at(int64_t y, int64_t x) const { return base + y * row + x; }
};

// A (1, C, h, w) float tensor for the layers to write into.
torch::Tensor buffer(int64_t h, int64_t w, int64_t c) { return torch::empty({1, c, h, w}); }

Plane plane_of(const torch::Tensor& t, int64_t channels) {
  DPST_CHECK(t.scalar_type() == torch::kFloat && t.is_contiguous(), InternalError,
             "inference buffer is not contiguous float: strides " << t.strides());
  return Plane{t.data_ptr<float>(), t.stride(2), t.stride(1), channels};
}

// The interior of a plane with a `pad`-wide border.
Plane interior(Plane p, int64_t pad) {
  p.base = p.at(pad, pad);
  return p;
}

// The norm passes' row loops are compiled twice: for the build's baseline (x86-64 without
// AVX) and for AVX2 + FMA, picked at run time. The bodies are inlined into each; ISO C++
// neither reassociates nor contracts, so both compute every element as written.
bool cpu_has_avx2_fma() {
#if defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}
#if defined(__x86_64__)
#define DPST_AVX2_FMA __attribute__((target("avx2,fma")))
#else
#define DPST_AVX2_FMA
#endif
#define DPST_INLINE inline __attribute__((always_inline))

// Row sums in double for the statistics, eight accumulators: the sum of the values, and the
// sum of the float squares of (value - mean).
DPST_INLINE double row_sum_body(const float* __restrict p, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int64_t q = 0; q < 8; ++q) acc[q] += static_cast<double>(p[j + q]);
  for (; j < n; ++j) acc[0] += static_cast<double>(p[j]);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
DPST_INLINE double row_square_deviation_sum_body(const float* __restrict p, int64_t n, float mean) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int64_t q = 0; q < 8; ++q) {
      const float d = p[j + q] - mean;
      acc[q] += static_cast<double>(d * d);
    }
  }
  for (; j < n; ++j) {
    const float d = p[j] - mean;
    acc[0] += static_cast<double>(d * d);
  }
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}
DPST_AVX2_FMA double row_sum_avx2(const float* p, int64_t n) { return row_sum_body(p, n); }
double row_sum_baseline(const float* p, int64_t n) { return row_sum_body(p, n); }
double row_sum(const float* p, int64_t n) { return cpu_has_avx2_fma() ? row_sum_avx2(p, n) : row_sum_baseline(p, n); }
DPST_AVX2_FMA double row_square_deviation_sum_avx2(const float* p, int64_t n, float mean) {
  return row_square_deviation_sum_body(p, n, mean);
}
double row_square_deviation_sum_baseline(const float* p, int64_t n, float mean) {
  return row_square_deviation_sum_body(p, n, mean);
}
double row_square_deviation_sum(const float* p, int64_t n, float mean) {
  return cpu_has_avx2_fma() ? row_square_deviation_sum_avx2(p, n, mean) : row_square_deviation_sum_baseline(p, n, mean);
}

// Sum over each channel of an h x w plane of row(channel, row pointer, w): one job per
// channel, its rows summed in order, so the result does not depend on the thread count.
// (InstanceNorm sums in double in one sequence; another order changes the double sum by
// ~1e-16 relative, far below the float it is rounded to.)
template <typename Row>
std::vector<double> channel_sums(const Plane& p, int64_t h, int64_t w, const Row& row) {
  std::vector<double> sums(static_cast<size_t>(p.channels));
  at::parallel_for(0, p.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t ch = begin; ch < end; ++ch) {
      double acc = 0;
      for (int64_t i = 0; i < h; ++i) acc += row(ch, p.at(i, 0) + ch * p.cs, w);
      sums[static_cast<size_t>(ch)] = acc;
    }
  });
  return sums;
}

// InstanceNorm2d's own statistics, rounded as LibTorch's CPU batch norm rounds them
// (aten/src/ATen/native/cpu/batch_norm_kernel.cpp, Normalization.cpp): the mean is the
// double sum over n, stored as float; the variance sum adds float (v - mean)^2 in double
// and is stored as float, divided by n in float; invstd = 1 / sqrt(var + eps) in double,
// stored as float. Matching these roundings, not just their precision, is what keeps the
// output within 1e-5 of the module: f_W amplifies a one-ulp change of one channel's
// invstd at the first norm about a hundredfold by the last layer.
struct TorchStatistics {
  std::vector<float> mean, invstd;
};
TorchStatistics torch_statistics(const Plane& src, int64_t h, int64_t w, double eps) {
  const int64_t c = src.channels;
  const int64_t n = h * w;
  const std::vector<double> sum =
      channel_sums(src, h, w, [](int64_t, const float* p, int64_t cols) { return row_sum(p, cols); });
  TorchStatistics out{std::vector<float>(static_cast<size_t>(c)), std::vector<float>(static_cast<size_t>(c))};
  for (int64_t ch = 0; ch < c; ++ch) out.mean[ch] = static_cast<float>(sum[ch] / static_cast<double>(n));
  const std::vector<double> var_sum = channel_sums(src, h, w, [&](int64_t ch, const float* p, int64_t cols) {
    return row_square_deviation_sum(p, cols, out.mean[ch]);
  });
  for (int64_t ch = 0; ch < c; ++ch) {
    const float var = static_cast<float>(var_sum[ch]) / static_cast<float>(n);
    out.invstd[ch] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var) + eps));
  }
  return out;
}

// Per-channel mean and biased variance in double (the statistics kRecord hands on): shifted
// sums, d = v - k with k the channel's first value, so there is no cancellation when the
// mean is far from 0.
std::pair<std::vector<double>, std::vector<double>> exact_mean_var(const Plane& src, int64_t h, int64_t w) {
  const int64_t c = src.channels;
  std::vector<float> k(static_cast<size_t>(c));
  for (int64_t ch = 0; ch < c; ++ch) k[ch] = src.base[ch * src.cs];
  auto shifted = [&](bool square) {
    return channel_sums(src, h, w, [&](int64_t ch, const float* p, int64_t cols) {
      double acc = 0;
      for (int64_t j = 0; j < cols; ++j) {
        const double d = static_cast<double>(p[j]) - k[ch];
        acc += square ? d * d : d;
      }
      return acc;
    });
  };
  const std::vector<double> s1 = shifted(false), s2 = shifted(true);
  std::vector<double> mean(static_cast<size_t>(c)), var(static_cast<size_t>(c));
  const double n = static_cast<double>(h * w);
  for (int64_t ch = 0; ch < c; ++ch) {
    const double m = s1[ch] / n;
    var[ch] = std::max(0.0, s2[ch] / n - m * m);
    mean[ch] = k[ch] + m;
  }
  return {mean, var};
}

// How a norm pass turns y into the layer's output, per channel, each as the module computes it:
//  - kCentered: (y - mean) * scale + bias, three roundings (the module's instance_norm_with,
//    used with given statistics: kApply, kRecord);
//  - kAffine: y * alpha + beta with alpha = invstd * weight and beta = bias - mean * alpha
//    (InstanceNorm2d's own forward, kOwn). LibTorch's vectorised CPU kernels (AVX2, AVX512)
//    compute both with fused multiply-adds, its DEFAULT kernel with a multiply and an add.
struct ChannelAffine {
  enum class Formula { kCentered, kAffineFused, kAffine };
  Formula formula;
  std::vector<float> mean, scale, bias;  // kAffine*: scale = alpha, bias = beta, mean unused
};

bool torch_kernels_fuse_multiply_add() {
#if defined(__x86_64__)
  static const bool fused = [] {
    const std::string capability = at::get_cpu_capability();
    return capability.rfind("AVX", 0) == 0 && cpu_has_avx2_fma();
  }();
  return fused;
#else
  return true;  // aarch64 and the like: fused multiply-add is the base instruction set's
#endif
}

// One row of the fused affine formula, y * alpha + beta rounded once (only run where
// torch_kernels_fuse_multiply_add, so on x86 the AVX2 + FMA build of it).
template <bool kRelu, bool kResidual>
DPST_INLINE void fused_affine_row_body(const float* __restrict s, float* __restrict o, const float* __restrict a,
                                       int64_t n, float alpha, float beta) {
  for (int64_t j = 0; j < n; ++j) {
    float v = std::fma(s[j], alpha, beta);
    if constexpr (kResidual) v += a[j];
    if constexpr (kRelu) v = std::max(v, 0.f);
    o[j] = v;
  }
}
template <bool kRelu, bool kResidual>
DPST_AVX2_FMA void fused_affine_row_avx2(const float* s, float* o, const float* a, int64_t n, float alpha, float beta) {
  fused_affine_row_body<kRelu, kResidual>(s, o, a, n, alpha, beta);
}
template <bool kRelu, bool kResidual>
void fused_affine_row(const float* s, float* o, const float* a, int64_t n, float alpha, float beta) {
  if (cpu_has_avx2_fma()) return fused_affine_row_avx2<kRelu, kResidual>(s, o, a, n, alpha, beta);
  fused_affine_row_body<kRelu, kResidual>(s, o, a, n, alpha, beta);
}

template <bool kRelu, bool kResidual>
void affine_row(const float* __restrict s, float* __restrict o, const float* __restrict a, int64_t n,
                const ChannelAffine& f, int64_t ch) {
  const float mu = f.mean.empty() ? 0.f : f.mean[ch], sc = f.scale[ch], b = f.bias[ch];
  switch (f.formula) {
    case ChannelAffine::Formula::kAffineFused:
      fused_affine_row<kRelu, kResidual>(s, o, a, n, sc, b);
      return;
    case ChannelAffine::Formula::kAffine:
      for (int64_t j = 0; j < n; ++j) {
        float v = s[j] * sc + b;
        if constexpr (kResidual) v += a[j];
        if constexpr (kRelu) v = std::max(v, 0.f);
        o[j] = v;
      }
      return;
    case ChannelAffine::Formula::kCentered:
      for (int64_t j = 0; j < n; ++j) {
        float v = (s[j] - mu) * sc + b;
        if constexpr (kResidual) v += a[j];
        if constexpr (kRelu) v = std::max(v, 0.f);
        o[j] = v;
      }
      return;
  }
}

// One row of w values as two rows of 2w (nearest x2): `out` and `out + row`.
void upsample_row(const float* __restrict in, float* __restrict out, int64_t row, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    out[2 * j] = in[j];
    out[2 * j + 1] = in[j];
  }
  std::memcpy(out + row, out, static_cast<size_t>(2 * w) * sizeof(float));
}

// The norm's output max(0, f(src(y, x)) + residual(y, x)), ReLU and residual as the layer
// has them, written into dst's interior: at (y, x), or with upsample 2 (nearest x2, the
// next layer's UpsampleConvLayer) at (2y + i, 2x + j) for i, j in {0, 1}.
template <bool kRelu, bool kResidual>
void normalise_into(const Plane& src, const Plane& dst, const Plane* residual, int64_t h, int64_t w,
                    int64_t upsample, const ChannelAffine& f) {
  const int64_t c = src.channels;
  at::parallel_for(0, c * h, 16, [&](int64_t begin, int64_t end) {
    std::vector<float> row(upsample == 1 ? 0 : static_cast<size_t>(w));
    for (int64_t job = begin; job < end; ++job) {
      const int64_t ch = job / h, i = job % h;
      const float* a = kResidual ? residual->at(i, 0) + ch * residual->cs : nullptr;
      if (upsample == 1) {
        affine_row<kRelu, kResidual>(src.at(i, 0) + ch * src.cs, dst.at(i, 0) + ch * dst.cs, a, w, f, ch);
        continue;
      }
      affine_row<kRelu, kResidual>(src.at(i, 0) + ch * src.cs, row.data(), a, w, f, ch);
      upsample_row(row.data(), dst.at(2 * i, 0) + ch * dst.cs, dst.row, w);
    }
  });
}

// Nearest x2 upsample of an h x w plane into dst's interior.
void upsample_into(const Plane& src, const Plane& dst, int64_t h, int64_t w) {
  at::parallel_for(0, src.channels * h, 16, [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int64_t ch = job / h, i = job % h;
      upsample_row(src.at(i, 0) + ch * src.cs, dst.at(2 * i, 0) + ch * dst.cs, dst.row, w);
    }
  });
}

// Fills the `pad`-wide border of an (h + 2 pad) x (w + 2 pad) plane whose interior is
// written: mirrored without repeating the edge, as ReflectionPad2d does.
void fill_border(const Plane& p, int64_t h, int64_t w, int64_t pad) {
  auto source = [&](int64_t i, int64_t n) {  // padded index i outside [pad, pad + n)
    return i < pad ? 2 * pad - i : 2 * (pad + n - 1) - i;
  };
  auto copy = [&](int64_t y, int64_t x, int64_t from_y, int64_t from_x) {
    const float* s = p.at(from_y, from_x);
    float* d = p.at(y, x);
    for (int64_t ch = 0; ch < p.channels; ++ch) d[ch * p.cs] = s[ch * p.cs];
  };
  at::parallel_for(pad, pad + h, 16, [&](int64_t begin, int64_t end) {
    for (int64_t y = begin; y < end; ++y) {
      for (int64_t x = 0; x < pad; ++x) copy(y, x, y, source(x, w));
      for (int64_t x = pad + w; x < w + 2 * pad; ++x) copy(y, x, y, source(x, w));
    }
  });
  for (int64_t y = 0; y < h + 2 * pad; ++y) {
    if (y >= pad && y < pad + h) continue;
    const int64_t from = source(y, h);
    at::parallel_for(0, w + 2 * pad, 256, [&](int64_t begin, int64_t end) {
      for (int64_t x = begin; x < end; ++x) copy(y, x, from, x);
    });
  }
}

torch::Tensor parameter(const TransformNetImpl& net, const std::string& name) {
  const auto params = net.named_parameters();
  const torch::Tensor* p = params.find(name);
  DPST_CHECK(p != nullptr, InternalError, "f_W has no parameter " << name);
  return p->detach().to(torch::kCPU, torch::kFloat).clone();
}

}  // namespace

TransformNetInference::TransformNetInference(const TransformNetImpl& net) : options_(net.options()) {
  torch::NoGradGuard no_grad;
  auto conv = [&](const std::string& name, int64_t stride) {
    return Conv{name, parameter(net, name + ".conv2d.weight"), parameter(net, name + ".conv2d.bias"), stride};
  };
  auto norm = [&](const std::string& name) {
    const auto* in = net.named_modules()[name]->as<torch::nn::InstanceNorm2d>();
    DPST_CHECK(in != nullptr, InternalError, "f_W has no InstanceNorm " << name);
    norms_.push_back(Norm{name, parameter(net, name + ".weight"), parameter(net, name + ".bias"), in->options.eps()});
  };
  conv1_ = conv("conv1", 1);
  conv2_ = conv("conv2", 2);
  conv3_ = conv("conv3", 2);
  norm("in1");
  norm("in2");
  norm("in3");
  for (int64_t i = 1; i <= options_.residual_blocks; ++i) {
    const std::string block = "res" + std::to_string(i);
    res_convs_.push_back(conv(block + ".conv1", 1));
    res_convs_.push_back(conv(block + ".conv2", 1));
    norm(block + ".in1");
    norm(block + ".in2");
  }
  norm("in4");
  norm("in5");
  up1_ = conv("deconv1", 1);
  up2_ = conv("deconv2", 1);
  out_ = conv("deconv3", 1);
}

bool TransformNetInference::supports(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.dim() == 4 && x.size(0) == 1 &&
         x.size(1) == 3 && x.size(2) >= 8 && x.size(3) >= 8 && x.size(2) % 4 == 0 && x.size(3) % 4 == 0;
}

// One pass of the inference path: the layers, each InstanceNorm done as `pass` says.
struct InferencePass {
  const TransformNetInference& net;
  TransformNetInference::NormPass& pass;

  template <typename Step>
  auto timed(const std::string& name, Step&& step) {
    if (!pass.times) return step();
    const auto start = std::chrono::steady_clock::now();
    auto result = step();
    pass.times->emplace_back(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return result;
  }

  torch::Tensor conv(const TransformNetInference::Conv& c, const torch::Tensor& in) {
    return timed(c.name, [&] {
      return at::conv2d(in, c.weight, c.bias, {c.stride, c.stride}).contiguous();
    });
  }

  // Norm k over the h x w plane `src` (at `stride` to the full-size image), written into
  // the interior of `dst` (border `pad`, nearest-upsampled by `upsample`; plus `residual`),
  // then dst's border filled. False when the pass measured norm k instead and ends here.
  bool norm(size_t k, const Plane& src, int64_t h, int64_t w, int64_t stride, const Plane& dst, int64_t pad,
            int64_t upsample, bool relu, const Plane* residual = nullptr) {
    if (static_cast<int64_t>(k) == pass.measure) {
      timed(net.norms_[k].name + " (measure)", [&] {
        add_core_sums(src, stride);
        return 0;
      });
      pass.stopped = true;
      return false;
    }
    timed(net.norms_[k].name, [&] {
      apply(k, src, h, w, dst, pad, upsample, relu, residual);
      return 0;
    });
    return true;
  }

  // Per-channel sum and sum of squares (double) of src over pass.core, scaled to this layer.
  void add_core_sums(const Plane& src, int64_t stride) {
    const auto& [top, left, height, width] = pass.core;
    const int64_t y0 = top / stride, x0 = left / stride, rows = height / stride, cols = width / stride;
    const int64_t c = src.channels, chunks = std::min<int64_t>(rows, 16);
    std::vector<double> partial(static_cast<size_t>(chunks * 2 * c), 0.0);
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        double* s1 = partial.data() + chunk * 2 * c;
        double* s2 = s1 + c;
        for (int64_t y = y0 + rows * chunk / chunks; y < y0 + rows * (chunk + 1) / chunks; ++y) {
          for (int64_t x = x0; x < x0 + cols; ++x) {
            const float* p = src.at(y, x);
            for (int64_t i = 0; i < c; ++i) {
              const double v = p[i * src.cs];
              s1[i] += v;
              s2[i] += v * v;
            }
          }
        }
      }
    });
    auto sum = torch::zeros({c}, torch::kDouble), sum_sq = torch::zeros({c}, torch::kDouble);
    auto a = sum.accessor<double, 1>(), b = sum_sq.accessor<double, 1>();
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int64_t i = 0; i < c; ++i) {
        a[i] += partial[chunk * 2 * c + i];
        b[i] += partial[chunk * 2 * c + c + i];
      }
    }
    pass.sum = pass.sum.defined() ? pass.sum + sum : sum;
    pass.sum_sq = pass.sum_sq.defined() ? pass.sum_sq + sum_sq : sum_sq;
    pass.count += rows * cols;
  }

  void apply(size_t k, const Plane& src, int64_t h, int64_t w, const Plane& dst, int64_t pad, int64_t upsample,
             bool relu, const Plane* residual) {
    const TransformNetInference::Norm& n = net.norms_[k];
    const int64_t c = src.channels;
    const auto weight = n.weight.accessor<float, 1>();
    const auto bias = n.bias.accessor<float, 1>();
    ChannelAffine f{ChannelAffine::Formula::kCentered, std::vector<float>(static_cast<size_t>(c)),
                    std::vector<float>(static_cast<size_t>(c)), std::vector<float>(static_cast<size_t>(c))};
    // instance_norm_with's arithmetic for given float statistics, all in float.
    auto centered = [&](auto mean_of, auto var_of) {
      for (int64_t i = 0; i < c; ++i) {
        f.mean[i] = mean_of(i);
        f.scale[i] = weight[i] * (1.f / std::sqrt(var_of(i) + static_cast<float>(n.eps)));
        f.bias[i] = bias[i];
      }
    };
    if (pass.mode == NormStatsMode::kApply) {
      DPST_CHECK(pass.stats && pass.stats->mean_var.size() > k, InternalError,
                 "no InstanceNorm statistics for norm " << k << " (" << n.name << ")");
      const auto& [mean_t, var_t] = pass.stats->mean_var[k];
      const torch::Tensor mt = mean_t.to(torch::kCPU, torch::kFloat).contiguous().view(-1);
      const torch::Tensor vt = var_t.to(torch::kCPU, torch::kFloat).contiguous().view(-1);
      const auto m = mt.accessor<float, 1>(), v = vt.accessor<float, 1>();
      centered([&](int64_t i) { return m[i]; }, [&](int64_t i) { return v[i]; });
    } else if (pass.mode == NormStatsMode::kRecord) {
      // The module records torch::var_mean's float statistics and applies them centered.
      DPST_CHECK(pass.stats && pass.stats->mean_var.size() == k, InternalError,
                 "statistics recorded out of order at norm " << k << " (" << n.name << ")");
      auto [mean, var] = exact_mean_var(src, h, w);
      const std::vector<float> mean_f(mean.begin(), mean.end()), var_f(var.begin(), var.end());
      pass.stats->mean_var.emplace_back(torch::tensor(mean_f).view({1, -1, 1, 1}),
                                        torch::tensor(var_f).view({1, -1, 1, 1}));
      centered([&](int64_t i) { return mean_f[i]; }, [&](int64_t i) { return var_f[i]; });
    } else {
      const bool fused = torch_kernels_fuse_multiply_add();
      const TorchStatistics st = torch_statistics(src, h, w, n.eps);
      f.formula = fused ? ChannelAffine::Formula::kAffineFused : ChannelAffine::Formula::kAffine;
      for (int64_t i = 0; i < c; ++i) {
        const float alpha = st.invstd[i] * weight[i];
        f.scale[i] = alpha;
        f.bias[i] = fused ? std::fma(-st.mean[i], alpha, bias[i]) : bias[i] - st.mean[i] * alpha;
      }
    }
    const Plane inside = interior(dst, pad);
    if (residual) {
      relu ? normalise_into<true, true>(src, inside, residual, h, w, upsample, f)
           : normalise_into<false, true>(src, inside, residual, h, w, upsample, f);
    } else {
      relu ? normalise_into<true, false>(src, inside, nullptr, h, w, upsample, f)
           : normalise_into<false, false>(src, inside, nullptr, h, w, upsample, f);
    }
    fill_border(dst, h * upsample, w * upsample, pad);
  }

  TransformNetInference::Quarter head(const torch::Tensor& x) {
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t w1 = net.options_.width, w2 = 2 * w1, w3 = 4 * w1;
    namespace F = torch::nn::functional;
    const torch::Tensor input = timed("pad input", [&] {
      return F::pad(x, F::PadFuncOptions({4, 4, 4, 4}).mode(torch::kReflect)).contiguous();
    });
    // conv1 -> in1 -> relu, into conv2's reflection-padded input; conv2 and conv3 likewise.
    // Each tensor is released as soon as it is consumed (the next one is allocated after):
    // the peak is two or three activations, which bounds a tiled photo's memory.
    torch::Tensor t = conv(net.conv1_, input);
    torch::Tensor buf = buffer(h + 2, w + 2, w1);
    if (!norm(0, plane_of(t, w1), h, w, 1, plane_of(buf, w1), 1, 1, true)) return {};
    t.reset();
    t = conv(net.conv2_, buf);
    buf.reset();
    buf = buffer(h / 2 + 2, w / 2 + 2, w2);
    if (!norm(1, plane_of(t, w2), h / 2, w / 2, 2, plane_of(buf, w2), 1, 1, true)) return {};
    t.reset();
    t = conv(net.conv3_, buf);
    buf.reset();
    TransformNetInference::Quarter y{buffer(h / 4 + 2, w / 4 + 2, w3), h, w};
    if (!norm(2, plane_of(t, w3), h / 4, w / 4, 4, plane_of(y.buffer, w3), 1, 1, true)) return {};
    return y;
  }

  TransformNetInference::Quarter block(int64_t b, const TransformNetInference::Quarter& y) {
    const int64_t w3 = 4 * net.options_.width, qh = y.height / 4, qw = y.width / 4;
    const size_t k = 3 + 2 * static_cast<size_t>(b);
    torch::Tensor inner = buffer(qh + 2, qw + 2, w3);
    if (!norm(k, plane_of(conv(net.res_convs_[2 * b], y.buffer), w3), qh, qw, 4, plane_of(inner, w3), 1, 1, true)) {
      return {};
    }
    const Plane residual = interior(plane_of(y.buffer, w3), 1);
    TransformNetInference::Quarter next{buffer(qh + 2, qw + 2, w3), y.height, y.width};
    if (!norm(k + 1, plane_of(conv(net.res_convs_[2 * b + 1], inner), w3), qh, qw, 4, plane_of(next.buffer, w3), 1, 1,
              false, &residual)) {
      return {};
    }
    return next;
  }

  torch::Tensor tail(const TransformNetInference::Quarter& y) {
    const int64_t h = y.height, w = y.width, w1 = net.options_.width, w2 = 2 * w1, w3 = 4 * w1;
    const size_t k = 3 + 2 * static_cast<size_t>(net.options_.residual_blocks);
    // deconv1's input: the residual blocks' output upsampled x2 and mirrored by 1 (the
    // quarter stays as it is: tiled passes start the tail from it again).
    torch::Tensor up = timed("deconv1 (upsample)", [&] {
      torch::Tensor b = buffer(h / 2 + 2, w / 2 + 2, w3);
      upsample_into(interior(plane_of(y.buffer, w3), 1), interior(plane_of(b, w3), 1), h / 4, w / 4);
      fill_border(plane_of(b, w3), h / 2, w / 2, 1);
      return b;
    });
    torch::Tensor t = conv(net.up1_, up);
    up.reset();
    // in4 writes deconv2's input upsampled, in5 deconv3's 4-px mirrored input (each tensor
    // released once consumed, as in head).
    torch::Tensor buf = buffer(h + 2, w + 2, w2);
    if (!norm(k, plane_of(t, w2), h / 2, w / 2, 2, plane_of(buf, w2), 1, 2, true)) return {};
    t.reset();
    t = conv(net.up2_, buf);
    buf.reset();
    buf = buffer(h + 8, w + 8, w1);
    if (!norm(k + 1, plane_of(t, w1), h, w, 1, plane_of(buf, w1), 4, 1, true)) return {};
    t.reset();
    return conv(net.out_, buf);
  }
};

void TransformNetInference::check_pass(const NormPass& pass) const {
  DPST_CHECK(pass.mode == NormStatsMode::kOwn || pass.stats != nullptr, InternalError,
             "an InstanceNorm statistics mode without statistics");
  DPST_CHECK(pass.measure < static_cast<int64_t>(norms_.size()), InternalError,
             "no InstanceNorm " << pass.measure << " to measure; this f_W has " << norms_.size());
}

TransformNetInference::Quarter TransformNetInference::head(const torch::Tensor& x, NormPass& pass) const {
  DPST_CHECK(supports(x), InternalError,
             "CPU inference path needs one float CPU image with sides multiple of 4, >= 8; got " << x.sizes());
  check_pass(pass);
  c10::InferenceMode inference;
  return InferencePass{*this, pass}.head(x);
}

TransformNetInference::Quarter TransformNetInference::block(int64_t b, const Quarter& y, NormPass& pass) const {
  DPST_CHECK(b >= 0 && b < options_.residual_blocks && y.buffer.defined(), InternalError, "no residual block " << b);
  check_pass(pass);
  c10::InferenceMode inference;
  return InferencePass{*this, pass}.block(b, y);
}

torch::Tensor TransformNetInference::tail(const Quarter& y, NormPass& pass) const {
  DPST_CHECK(y.buffer.defined(), InternalError, "f_W's tail needs the residual blocks' output");
  check_pass(pass);
  c10::InferenceMode inference;
  return InferencePass{*this, pass}.tail(y);
}

torch::Tensor TransformNetInference::forward(const torch::Tensor& x, NormStatsMode mode, InstanceNormStats& stats,
                                             StepTimes* times) const {
  DPST_CHECK(mode != NormStatsMode::kApply || stats.mean_var.size() == norms_.size(), InternalError,
             "InstanceNorm statistics for " << stats.mean_var.size() << " norms, this f_W has " << norms_.size());
  if (mode == NormStatsMode::kRecord) stats.mean_var.clear();
  NormPass pass;
  pass.mode = mode;
  pass.stats = &stats;
  pass.times = times;
  Quarter y = head(x, pass);
  for (int64_t b = 0; b < options_.residual_blocks; ++b) y = block(b, y, pass);
  return tail(y, pass);
}

}  // namespace dpst::models
