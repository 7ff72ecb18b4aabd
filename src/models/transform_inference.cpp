#include "models/transform_inference.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/nn/functional.h>

#include "common/errors.h"

namespace dpst::models {
namespace {

// Where pixel (y, x) of a C-channel image lives in an NCHW buffer: channel i of it at
// at(y, x) + i * cs.
struct Plane {
  enum class Kind {
    kPlain,         // base + y * row + x * pix
    kPhases,        // the four phase outputs of a subpixel conv, read interleaved
    kSpaceToDepth,  // 2x2 blocks of pixels as 4C channels, phase-major (see deconv3)
  };
  float* base;
  int64_t row, pix, cs, channels;
  Kind kind = Kind::kPlain;

  float* at(int64_t y, int64_t x) const {
    const int64_t py = y & 1, px = x & 1;
    switch (kind) {
      case Kind::kPhases:
        // Phase (py, px) of output pixel (2i + py, 2j + px) sits at (i + py, j + px) of the
        // conv output, in channel block py * 2 + px.
        return base + ((y >> 1) + py) * row + ((x >> 1) + px) * pix + (py * 2 + px) * channels * cs;
      case Kind::kSpaceToDepth:
        return base + (y >> 1) * row + (x >> 1) * pix + (py * 2 + px) * channels * cs;
      case Kind::kPlain:
        break;
    }
    return base + y * row + x * pix;
  }
};

// A (1, C, h, w) float tensor for the layers to write into.
torch::Tensor buffer(int64_t h, int64_t w, int64_t c) { return torch::empty({1, c, h, w}); }

Plane plane_of(const torch::Tensor& t, int64_t channels, Plane::Kind kind = Plane::Kind::kPlain) {
  DPST_CHECK(t.scalar_type() == torch::kFloat && t.is_contiguous(), InternalError,
             "inference buffer is not contiguous float: strides " << t.strides());
  return Plane{t.data_ptr<float>(), t.stride(2), t.stride(3), t.stride(1), channels, kind};
}

// Part of a plane whose pixels are evenly spaced in memory: logical pixel
// (y0 + i * step, x0 + j * step) of channel ch at base + ch * cs + i * row + j * pix, for
// i < rows, j < cols. A plain plane is one region, a kPhases plane four (one per phase).
struct Region {
  float* base;
  int64_t row, pix, cs;
  int64_t y0, x0, step, rows, cols;
};

std::vector<Region> regions_of(const Plane& p, int64_t h, int64_t w) {
  if (p.kind == Plane::Kind::kPlain) return {Region{p.base, p.row, p.pix, p.cs, 0, 0, 1, h, w}};
  DPST_CHECK(p.kind == Plane::Kind::kPhases && h % 2 == 0 && w % 2 == 0, InternalError,
             "a norm reads plain or phase planes of even size");
  std::vector<Region> out;
  for (int64_t py = 0; py < 2; ++py)
    for (int64_t px = 0; px < 2; ++px)
      out.push_back(Region{p.at(py, px), p.row, p.pix, p.cs, py, px, 2, h / 2, w / 2});
  return out;
}

// Where `plane` keeps the pixels of region `r` shifted by `pad`: a region again.
Region follow(const Plane& plane, const Region& r, int64_t pad) {
  const int64_t y = r.y0 + pad, x = r.x0 + pad;
  if (plane.kind == Plane::Kind::kPlain)
    return Region{plane.at(y, x), r.step * plane.row, r.step * plane.pix, plane.cs, y, x, r.step, r.rows, r.cols};
  DPST_CHECK(plane.kind == Plane::Kind::kSpaceToDepth && r.step == 2, InternalError,
             "2x2 blocks are written from phase planes only");
  return Region{plane.at(y, x), plane.row, plane.pix, plane.cs, y, x, 2, r.rows, r.cols};
}

// Per-channel mean and biased variance over a plane, in one read: sums of d = v - k and
// d * d with k the channel's first value (shifted data: no cancellation when the mean is
// far from 0), in float along a row and in double across rows. One job per channel and
// region, summed in a fixed order: the result does not depend on the thread count.
std::pair<std::vector<double>, std::vector<double>> mean_var(const Plane& src, int64_t h, int64_t w) {
  const int64_t c = src.channels;
  const std::vector<Region> regions = regions_of(src, h, w);
  const int64_t nr = static_cast<int64_t>(regions.size());
  std::vector<float> k(static_cast<size_t>(c));
  for (int64_t ch = 0; ch < c; ++ch) k[ch] = regions[0].base[ch * regions[0].cs];
  std::vector<double> s1(static_cast<size_t>(c * nr)), s2(static_cast<size_t>(c * nr));
  at::parallel_for(0, c * nr, 1, [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int64_t ch = job / nr;
      const Region& r = regions[static_cast<size_t>(job % nr)];
      const float shift = k[ch];
      double a1 = 0, a2 = 0;
      for (int64_t i = 0; i < r.rows; ++i) {
        const float* __restrict p = r.base + ch * r.cs + i * r.row;
        float t1 = 0, t2 = 0;
        for (int64_t j = 0; j < r.cols; ++j) {
          const float d = p[j * r.pix] - shift;
          t1 += d;
          t2 += d * d;
        }
        a1 += t1;
        a2 += t2;
      }
      s1[job] = a1;
      s2[job] = a2;
    }
  });
  std::vector<double> mean(static_cast<size_t>(c)), var(static_cast<size_t>(c));
  const double n = static_cast<double>(h * w);
  for (int64_t ch = 0; ch < c; ++ch) {
    double a1 = 0, a2 = 0;
    for (int64_t q = 0; q < nr; ++q) {
      a1 += s1[ch * nr + q];
      a2 += s2[ch * nr + q];
    }
    const double m = a1 / n;
    var[ch] = std::max(0.0, a2 / n - m * m);
    mean[ch] = k[ch] + m;
  }
  return {mean, var};
}

// dst(y + pad, x + pad) = max(0, (src(y, x) - mean) * scale + bias + residual(y, x)), ReLU
// and residual as the layer has them. (Subtracting the mean first, as InstanceNorm does,
// keeps small-variance channels exact: y * scale + (bias - mean * scale) would cancel.)
template <bool kRelu, bool kResidual>
void normalise_into(const Plane& src, const Plane& dst, const Plane* residual, int64_t h, int64_t w, int64_t pad,
                    const std::vector<float>& mean, const std::vector<float>& scale, const float* bias) {
  const int64_t c = src.channels;
  for (const Region& r : regions_of(src, h, w)) {
    const Region d = follow(dst, r, pad);
    const Region res = kResidual ? follow(*residual, r, 0) : r;
    at::parallel_for(0, c * r.rows, 16, [&](int64_t begin, int64_t end) {
      for (int64_t job = begin; job < end; ++job) {
        const int64_t ch = job / r.rows, i = job % r.rows;
        const float* __restrict s = r.base + ch * r.cs + i * r.row;
        float* __restrict o = d.base + ch * d.cs + i * d.row;
        const float* __restrict a = res.base + ch * res.cs + i * res.row;
        const float mu = mean[ch], sc = scale[ch], b = bias[ch];
        for (int64_t j = 0; j < r.cols; ++j) {
          float v = (s[j * r.pix] - mu) * sc + b;
          if constexpr (kResidual) v += a[j * res.pix];
          if constexpr (kRelu) v = std::max(v, 0.f);
          o[j * d.pix] = v;
        }
      }
    });
  }
}

// Fills the `pad`-wide border of an (h + 2 pad) x (w + 2 pad) plane whose interior is
// written: mirrored without repeating the edge (ReflectionPad2d) or repeating it.
void fill_border(const Plane& p, int64_t h, int64_t w, int64_t pad, bool reflect) {
  auto source = [&](int64_t i, int64_t n) {  // padded index i outside [pad, pad + n)
    if (i < pad) return reflect ? 2 * pad - i : pad;
    return reflect ? 2 * (pad + n - 1) - i : pad + n - 1;
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

// Nearest x2 upsample, reflection pad 1, 3x3 conv: along one axis, output 2i takes taps
// (w0, w1 + w2) at input (i - 1, i) and output 2i + 1 takes (w0 + w1, w2) at (i, i + 1),
// with the input padded by replication (the mirrored border of the upsampled image repeats
// the input's edge). Returns the 2x2 kernels of the four phases stacked as output channel
// blocks (phase py * 2 + px).
torch::Tensor subpixel_weight(const torch::Tensor& w) {
  auto fold = [](const torch::Tensor& k, int64_t dim, bool odd) {
    const auto taps = k.unbind(dim);
    return odd ? torch::stack({taps[0] + taps[1], taps[2]}, dim) : torch::stack({taps[0], taps[1] + taps[2]}, dim);
  };
  std::vector<torch::Tensor> phases;
  for (bool py : {false, true})
    for (bool px : {false, true}) phases.push_back(fold(fold(w, 2, py), 3, px));
  return torch::cat(phases, 0);
}

// A KxK stride-1 conv as a conv over 2x2 space-to-depth blocks: input channel
// (sy * 2 + sx) * Ci + ci is pixel (2m + sy, 2n + sx) of channel ci, output channel
// (ry * 2 + rx) * Co + co is output pixel (2m + ry, 2n + rx). Output 2m + ry reads padded
// input 2m + ry + d (d < K), block m + (ry + d) / 2: a kernel of K / 2 + 1 blocks.
torch::Tensor space_to_depth_weight(const torch::Tensor& w) {
  const int64_t co = w.size(0), ci = w.size(1), kk = w.size(2), k = kk / 2 + 1;
  auto out = torch::zeros({4 * co, 4 * ci, k, k});
  for (int64_t ry = 0; ry < 2; ++ry)
    for (int64_t rx = 0; rx < 2; ++rx)
      for (int64_t sy = 0; sy < 2; ++sy)
        for (int64_t sx = 0; sx < 2; ++sx)
          for (int64_t ky = 0; ky < k; ++ky)
            for (int64_t kx = 0; kx < k; ++kx) {
              const int64_t dy = 2 * ky + sy - ry, dx = 2 * kx + sx - rx;
              if (dy < 0 || dy >= kk || dx < 0 || dx >= kk) continue;
              out.narrow(0, (ry * 2 + rx) * co, co)
                  .narrow(1, (sy * 2 + sx) * ci, ci)
                  .select(2, ky)
                  .select(2, kx)
                  .copy_(w.select(2, dy).select(2, dx));
            }
  return out;
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
  for (auto [up, name] : {std::pair{&up1_, "deconv1"}, std::pair{&up2_, "deconv2"}}) {
    *up = Conv{std::string(name) + " (4 phases)", subpixel_weight(parameter(net, std::string(name) + ".conv2d.weight")).contiguous(),
               parameter(net, std::string(name) + ".conv2d.bias").repeat({4}), 1};
  }
  out_ = Conv{"deconv3 (2x2 blocks)", space_to_depth_weight(parameter(net, "deconv3.conv2d.weight")).contiguous(),
              parameter(net, "deconv3.conv2d.bias").repeat({4}), 1};
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
  // `dst` at offset `pad` (plus `residual`), then dst's border filled. False when the pass
  // measured norm k instead and ends here.
  bool norm(size_t k, const Plane& src, int64_t h, int64_t w, int64_t stride, const Plane& dst, int64_t pad,
            bool relu, bool reflect, const Plane* residual = nullptr) {
    if (static_cast<int64_t>(k) == pass.measure) {
      timed(net.norms_[k].name + " (measure)", [&] {
        add_core_sums(src, stride);
        return 0;
      });
      pass.stopped = true;
      return false;
    }
    timed(net.norms_[k].name, [&] {
      apply(k, src, h, w, dst, pad, relu, reflect, residual);
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

  void apply(size_t k, const Plane& src, int64_t h, int64_t w, const Plane& dst, int64_t pad, bool relu, bool reflect,
             const Plane* residual) {
    const TransformNetInference::Norm& n = net.norms_[k];
    const int64_t c = src.channels;
    std::vector<float> mean_f(static_cast<size_t>(c)), scale(static_cast<size_t>(c));
    const auto weight = n.weight.accessor<float, 1>();
    const float* bias = n.bias.data_ptr<float>();
    if (pass.mode == NormStatsMode::kApply) {
      // instance_norm_with's arithmetic, in float.
      DPST_CHECK(pass.stats && pass.stats->mean_var.size() > k, InternalError,
                 "no InstanceNorm statistics for norm " << k << " (" << n.name << ")");
      const auto& [mean_t, var_t] = pass.stats->mean_var[k];
      const torch::Tensor mt = mean_t.to(torch::kCPU, torch::kFloat).contiguous().view(-1);
      const torch::Tensor vt = var_t.to(torch::kCPU, torch::kFloat).contiguous().view(-1);
      const auto m = mt.accessor<float, 1>(), v = vt.accessor<float, 1>();
      for (int64_t i = 0; i < c; ++i) {
        mean_f[i] = m[i];
        scale[i] = weight[i] * (1.f / std::sqrt(v[i] + static_cast<float>(n.eps)));
      }
    } else {
      auto [mean, var] = mean_var(src, h, w);
      for (int64_t i = 0; i < c; ++i) {
        mean_f[i] = static_cast<float>(mean[i]);
        scale[i] = static_cast<float>(weight[i] / std::sqrt(var[i] + n.eps));
      }
      if (pass.mode == NormStatsMode::kRecord) {
        DPST_CHECK(pass.stats && pass.stats->mean_var.size() == k, InternalError,
                   "statistics recorded out of order at norm " << k << " (" << n.name << ")");
        pass.stats->mean_var.emplace_back(
            torch::tensor(std::vector<float>(mean.begin(), mean.end())).view({1, -1, 1, 1}),
            torch::tensor(std::vector<float>(var.begin(), var.end())).view({1, -1, 1, 1}));
      }
    }
    if (residual) {
      relu ? normalise_into<true, true>(src, dst, residual, h, w, pad, mean_f, scale, bias)
           : normalise_into<false, true>(src, dst, residual, h, w, pad, mean_f, scale, bias);
    } else {
      relu ? normalise_into<true, false>(src, dst, nullptr, h, w, pad, mean_f, scale, bias)
           : normalise_into<false, false>(src, dst, nullptr, h, w, pad, mean_f, scale, bias);
    }
    fill_border(dst, h, w, pad, reflect);
  }

  // The residual blocks' input and output border: mirrored for a block's 3x3 conv,
  // replicated for the subpixel deconv1 (after the last block).
  bool quarter_border_reflects(int64_t next_block) const { return next_block < net.options_.residual_blocks; }

  TransformNetInference::Quarter head(const torch::Tensor& x) {
    const int64_t h = x.size(2), w = x.size(3);
    const int64_t w1 = net.options_.width, w2 = 2 * w1, w3 = 4 * w1;
    namespace F = torch::nn::functional;
    const torch::Tensor input = timed("pad input", [&] {
      return F::pad(x, F::PadFuncOptions({4, 4, 4, 4}).mode(torch::kReflect)).contiguous();
    });
    // conv1 -> in1 -> relu, into conv2's reflection-padded input; conv2 and conv3 likewise.
    torch::Tensor t = conv(net.conv1_, input);
    torch::Tensor buf = buffer(h + 2, w + 2, w1);
    if (!norm(0, plane_of(t, w1), h, w, 1, plane_of(buf, w1), 1, true, true)) return {};
    t = conv(net.conv2_, buf);
    buf = buffer(h / 2 + 2, w / 2 + 2, w2);
    if (!norm(1, plane_of(t, w2), h / 2, w / 2, 2, plane_of(buf, w2), 1, true, true)) return {};
    t = conv(net.conv3_, buf);
    TransformNetInference::Quarter y{buffer(h / 4 + 2, w / 4 + 2, w3), h, w};
    if (!norm(2, plane_of(t, w3), h / 4, w / 4, 4, plane_of(y.buffer, w3), 1, true, quarter_border_reflects(0))) {
      return {};
    }
    return y;
  }

  TransformNetInference::Quarter block(int64_t b, const TransformNetInference::Quarter& y) {
    const int64_t w3 = 4 * net.options_.width, qh = y.height / 4, qw = y.width / 4;
    const size_t k = 3 + 2 * static_cast<size_t>(b);
    torch::Tensor inner = buffer(qh + 2, qw + 2, w3);
    if (!norm(k, plane_of(conv(net.res_convs_[2 * b], y.buffer), w3), qh, qw, 4, plane_of(inner, w3), 1, true, true)) {
      return {};
    }
    Plane residual = plane_of(y.buffer, w3);
    residual.base += residual.row + residual.pix;  // the interior
    TransformNetInference::Quarter next{buffer(qh + 2, qw + 2, w3), y.height, y.width};
    if (!norm(k + 1, plane_of(conv(net.res_convs_[2 * b + 1], inner), w3), qh, qw, 4, plane_of(next.buffer, w3), 1,
              false, quarter_border_reflects(b + 1), &residual)) {
      return {};
    }
    return next;
  }

  torch::Tensor tail(const TransformNetInference::Quarter& y) {
    const int64_t h = y.height, w = y.width, w1 = net.options_.width, w2 = 2 * w1;
    const size_t k = 3 + 2 * static_cast<size_t>(net.options_.residual_blocks);
    // deconv1, deconv2: four phases each, read interleaved by the norm.
    torch::Tensor t = conv(net.up1_, y.buffer);
    torch::Tensor buf = buffer(h / 2 + 2, w / 2 + 2, w2);
    if (!norm(k, plane_of(t, w2, Plane::Kind::kPhases), h / 2, w / 2, 2, plane_of(buf, w2), 1, true, false)) return {};
    t = conv(net.up2_, buf);
    // in5 writes deconv3's reflection-padded (4) input as 2x2 blocks.
    buf = buffer(h / 2 + 4, w / 2 + 4, 4 * w1);
    if (!norm(k + 1, plane_of(t, w1, Plane::Kind::kPhases), h, w, 1, plane_of(buf, w1, Plane::Kind::kSpaceToDepth), 4,
              true, true)) {
      return {};
    }
    t = conv(net.out_, buf);  // (1, 12, h / 2, w / 2): channel (ry * 2 + rx) * 3 + c
    return timed("blocks to image", [&] {
      return t.reshape({1, 2, 2, 3, h / 2, w / 2}).permute({0, 3, 4, 1, 5, 2}).reshape({1, 3, h, w}).contiguous();
    });
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
