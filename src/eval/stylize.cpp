#include "eval/stylize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <optional>
#include <vector>

#include <torch/nn/functional.h>

#include "common/errors.h"
#include "models/transform_inference.h"

namespace dpst::eval {
namespace {
namespace F = torch::nn::functional;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Pads dimension `dim` (2 = H, 3 = W) of x by `before`/`after`: mirrored in steps no
// longer than the current size allows, repeated once the side is a single pixel.
torch::Tensor pad_dim(torch::Tensor x, int dim, int64_t before, int64_t after) {
  while (before > 0 || after > 0) {
    const int64_t size = x.size(dim);
    const bool mirror = size > 1;
    const int64_t b = mirror ? std::min(before, size - 1) : before;
    const int64_t a = mirror ? std::min(after, size - 1) : after;
    std::vector<int64_t> pad = dim == 3 ? std::vector<int64_t>{b, a, 0, 0} : std::vector<int64_t>{0, 0, b, a};
    F::PadFuncOptions options(pad);
    if (mirror) {
      options.mode(torch::kReflect);
    } else {
      options.mode(torch::kReplicate);
    }
    x = F::pad(x, options);
    before -= b;
    after -= a;
  }
  return x;
}

// The weight of each position of a tile window along one axis: 1 on the tile's core, a
// linear ramp over the blend band shared with a neighbour (the two ramps add up to 1), 0
// on the halo that only feeds the receptive field of the kept pixels.
torch::Tensor axis_weights(int64_t window_start, int64_t window_len, int64_t core_start, int64_t core_end,
                           int64_t band, int64_t total) {
  auto w = torch::zeros({window_len});
  auto acc = w.accessor<float, 1>();
  const int64_t half = band / 2;
  for (int64_t i = 0; i < window_len; ++i) {
    const int64_t p = window_start + i;
    const bool first = core_start == 0, last = core_end == total;
    float v = 0;
    if (p >= core_start + (first ? 0 : half) && p < core_end - (last ? 0 : half)) {
      v = 1;
    } else if (!first && p >= core_start - half && p < core_start + half) {
      v = static_cast<float>(p - (core_start - half) + 0.5) / static_cast<float>(band);
    } else if (!last && p >= core_end - half && p < core_end + half) {
      v = static_cast<float>(core_end + half - p - 0.5) / static_cast<float>(band);
    }
    acc[i] = v;
  }
  return w;
}

struct Span {
  int64_t core_start, core_end, window_start, window_end;
};

// Tiles of at most `tile` along one axis of a padded size `total` (a multiple of 4). Every
// window has the same length (shifted inwards at the photo's edges, where it then computes a few pixels
// it does not keep): the tiles' passes then allocate the same buffers again and again, which
// the process reuses instead of growing its heap around odd sizes.
std::vector<Span> spans(int64_t total, int64_t tile, int64_t halo, int64_t band) {
  // As few cores as `tile` allows, of even size (multiples of 4): n tiles of total / n.
  const int64_t n = (total + tile - 1) / tile, core = round_up((total + n - 1) / n, 4);
  std::vector<Span> out;
  for (int64_t start = 0; start < total; start += core) out.push_back(Span{start, std::min(total, start + core), 0, 0});
  // A last core thinner than the band would leave no room for the cross-fade: merge it.
  if (out.size() > 1 && out.back().core_end - out.back().core_start < band) {
    const Span last = out.back();
    out.pop_back();
    out.back().core_end = last.core_end;
  }
  // Each window holds its core, half the band and the halo on each side. f_W keeps sizes
  // only on multiples of 4 (two stride-2 convolutions, two x2 upsamplings); starts are
  // multiples of 4, so the stride grids line up with the whole image's.
  int64_t length = 0;
  for (const auto& s : out) length = std::max(length, s.core_end - s.core_start + band + 2 * halo);
  length = std::min(total, round_up(length, 4));
  for (auto& s : out) {
    s.window_start = std::clamp<int64_t>(s.core_start - band / 2 - halo, 0, total - length);
    s.window_end = s.window_start + length;
  }
  return out;
}

// k x k crops of side tile / k (multiples of 4) at evenly spaced places, side by side.
torch::Tensor statistics_mosaic(const torch::Tensor& photo, int64_t tile) {
  const int64_t h = photo.size(2), w = photo.size(3), k = 4;
  const int64_t ch = std::min(h, tile / k / 4 * 4), cw = std::min(w, tile / k / 4 * 4);
  std::vector<torch::Tensor> rows;
  for (int64_t i = 0; i < k; ++i) {
    std::vector<torch::Tensor> row;
    const int64_t y = (h - ch) * i / (k - 1);
    for (int64_t j = 0; j < k; ++j) {
      const int64_t x = (w - cw) * j / (k - 1);
      row.push_back(photo.narrow(2, y, ch).narrow(3, x, cw));
    }
    rows.push_back(torch::cat(row, 3));
  }
  return torch::cat(rows, 2);
}

// The tiles of a padded photo: windows (core + blend band + receptive halo) per axis.
struct TileGrid {
  std::vector<Span> rows, cols;
  int64_t band = 32;

  TileGrid(const models::TransformNetOptions& options, int64_t h, int64_t w, int64_t tile) {
    const int64_t halo = round_up(models::TransformNetImpl::receptive_radius(options), 4);
    rows = spans(h, tile, halo, band);
    cols = spans(w, tile, halo, band);
  }
  int64_t count() const { return static_cast<int64_t>(rows.size() * cols.size()); }
  const Span& row(int64_t i) const { return rows[static_cast<size_t>(i) / cols.size()]; }
  const Span& col(int64_t i) const { return cols[static_cast<size_t>(i) % cols.size()]; }
  torch::Tensor window(const torch::Tensor& x, int64_t i) const {
    const Span &r = row(i), &c = col(i);
    return x.narrow(2, r.window_start, r.window_end - r.window_start)
        .narrow(3, c.window_start, c.window_end - c.window_start);
  }
  // Tile i's core in its window's pixels: top, left, height, width.
  std::array<int64_t, 4> core(int64_t i) const {
    const Span &r = row(i), &c = col(i);
    return {r.core_start - r.window_start, c.core_start - c.window_start, r.core_end - r.core_start,
            c.core_end - c.core_start};
  }

  // The tiles' outputs (stylized(i, window) for tile i), cross-faded over the bands into
  // one (B, 3, h, w) image.
  torch::Tensor blend(const torch::Tensor& x, const std::function<torch::Tensor(int64_t, const torch::Tensor&)>& stylized) const {
    const int64_t h = x.size(2), w = x.size(3);
    torch::Tensor out = torch::zeros({x.size(0), 3, h, w}, x.options());
    torch::Tensor weight_sum = torch::zeros({1, 1, h, w}, x.options());
    for (int64_t i = 0; i < count(); ++i) {
      const Span &r = row(i), &c = col(i);
      const auto wy = axis_weights(r.window_start, r.window_end - r.window_start, r.core_start, r.core_end, band, h)
                          .to(x.device());
      const auto wx = axis_weights(c.window_start, c.window_end - c.window_start, c.core_start, c.core_end, band, w)
                          .to(x.device());
      const torch::Tensor y = stylized(i, window(x, i));
      const torch::Tensor wt = (wy.view({-1, 1}) * wx.view({1, -1})).view({1, 1, wy.size(0), wx.size(0)});
      out.narrow(2, r.window_start, wy.size(0)).narrow(3, c.window_start, wx.size(0)).add_(y * wt);
      weight_sum.narrow(2, r.window_start, wy.size(0)).narrow(3, c.window_start, wx.size(0)).add_(wt);
    }
    return out / weight_sum;
  }
};

// Mean and biased variance from sums over the tiles' cores, as (1, C, 1, 1) tensors.
std::pair<torch::Tensor, torch::Tensor> statistics_from_sums(const torch::Tensor& sum, const torch::Tensor& sum_sq,
                                                             int64_t count, torch::ScalarType type) {
  const torch::Tensor mean = sum / double(count);
  const torch::Tensor var = (sum_sq / double(count) - mean.pow(2)).clamp_min(0);
  return {mean.to(type).view({1, -1, 1, 1}), var.to(type).view({1, -1, 1, 1})};
}

// Tiled stylization with exact statistics on the CPU inference path. Norm k's statistics
// need those of norms 0..k-1 applied first, so each norm takes one pass over the tiles;
// instead of running every pass from the photo, each tile's residual-block activations
// are kept (a quarter-size window, about 44 bytes per photo pixel at the paper's width) and
// the passes for the residual blocks and the tail start from them: a pass costs one or two
// convolutions instead of the network up to its norm.
torch::Tensor stylize_tiled_exact(const models::TransformNetInference& fast, const torch::Tensor& x, int64_t tile,
                                  StylizeReport* report) {
  using Pass = models::TransformNetInference::NormPass;
  using Quarter = models::TransformNetInference::Quarter;
  const TileGrid grid(fast.options(), x.size(2), x.size(3), tile);
  models::InstanceNormStats stats;
  // Norm k's statistics over every tile's core, each tile's pass given by run(i, pass).
  auto measure = [&](size_t k, const std::function<void(int64_t, Pass&)>& run) {
    Pass pass;
    pass.mode = models::NormStatsMode::kApply;
    pass.stats = &stats;
    pass.measure = static_cast<int64_t>(k);
    for (int64_t i = 0; i < grid.count(); ++i) {
      pass.core = grid.core(i);
      pass.stopped = false;
      run(i, pass);
      DPST_CHECK(pass.stopped, InternalError, "tile pass did not reach norm " << k);
    }
    stats.mean_var.push_back(statistics_from_sums(pass.sum, pass.sum_sq, pass.count, x.scalar_type()));
  };
  Pass apply;
  apply.mode = models::NormStatsMode::kApply;
  apply.stats = &stats;
  for (size_t k = 0; k < 3; ++k) measure(k, [&](int64_t i, Pass& p) { fast.head(grid.window(x, i), p); });
  std::vector<Quarter> quarter(static_cast<size_t>(grid.count()));
  for (int64_t i = 0; i < grid.count(); ++i) quarter[static_cast<size_t>(i)] = fast.head(grid.window(x, i), apply);
  for (int64_t b = 0; b < fast.options().residual_blocks; ++b) {
    for (size_t k : {3 + 2 * static_cast<size_t>(b), 4 + 2 * static_cast<size_t>(b)})
      measure(k, [&](int64_t i, Pass& p) { fast.block(b, quarter[static_cast<size_t>(i)], p); });
    for (auto& q : quarter) q = fast.block(b, q, apply);
  }
  const size_t tail = 3 + 2 * static_cast<size_t>(fast.options().residual_blocks);
  for (size_t k : {tail, tail + 1})
    measure(k, [&](int64_t i, Pass& p) { fast.tail(quarter[static_cast<size_t>(i)], p); });
  if (report) {
    report->tiles = grid.count();
    report->tile_side = tile;
  }
  return grid.blend(x, [&](int64_t i, const torch::Tensor&) { return fast.tail(quarter[static_cast<size_t>(i)], apply); });
}

}  // namespace

torch::Tensor pad_to_fit(const torch::Tensor& x, int64_t min_side, int64_t multiple, int64_t* top, int64_t* left) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t th = round_up(std::max(h, min_side), multiple), tw = round_up(std::max(w, min_side), multiple);
  const int64_t ph = th - h, pw = tw - w;
  *top = ph / 2;
  *left = pw / 2;
  return pad_dim(pad_dim(x, 2, *top, ph - *top), 3, *left, pw - *left);
}

torch::Tensor transfer_luminance(const torch::Tensor& stylized, const torch::Tensor& photo) {
  // BT.601 full-range YCbCr is linear and every RGB channel carries Y with weight 1, so
  // "Y of the stylized image, Cb and Cr of the photo" is the photo plus the luminance
  // difference on all three channels.
  auto luma = [](const torch::Tensor& rgb) {
    return 0.299 * rgb.select(1, 0) + 0.587 * rgb.select(1, 1) + 0.114 * rgb.select(1, 2);
  };
  return photo + (luma(stylized) - luma(photo)).unsqueeze(1);
}

torch::Tensor stylize_whole(models::TransformNetImpl& net, const torch::Tensor& photo, models::NormStatsMode mode,
                            models::InstanceNormStats& stats) {
  int64_t top = 0, left = 0;
  const torch::Tensor x = pad_to_fit(photo, kMinSide, 4, &top, &left);
  const torch::Tensor y = models::TransformNetInference::supports(x)
                              ? models::TransformNetInference(net).forward(x, mode, stats)
                              : net.forward(x, mode, stats);
  return y.narrow(2, top, photo.size(2)).narrow(3, left, photo.size(3));
}

models::InstanceNormStats measure_statistics(models::TransformNetImpl& net, const torch::Tensor& photo, int64_t tile) {
  int64_t top = 0, left = 0;
  const torch::Tensor x = pad_to_fit(photo, kMinSide, 4, &top, &left);
  const TileGrid grid(net.options(), x.size(2), x.size(3), tile);
  const size_t norms = 5 + 2 * static_cast<size_t>(net.options().residual_blocks);
  struct Stop {};  // ends a pass once the norm it measures has seen its tile
  models::InstanceNormStats stats;
  // Norm k's input depends on the statistics of norms 0..k-1 only, so one pass per norm,
  // each stopping at its norm, gives every statistic exactly (a pass costs the forward
  // up to that norm). Sums over the tiles' cores, which partition the padded photo.
  for (size_t k = 0; k < norms; ++k) {
    torch::Tensor sum, sum_sq;
    int64_t count = 0;
    for (int64_t i = 0; i < grid.count(); ++i) {
      const torch::Tensor window = grid.window(x, i);
      const auto [core_top, core_left, core_h, core_w] = grid.core(i);
      size_t next = 0;
      try {
        net.forward(window, [&](torch::nn::InstanceNorm2dImpl& in, const torch::Tensor& y) {
          const size_t j = next++;
          if (j == k) {
            const int64_t fy = window.size(2) / y.size(2), fx = window.size(3) / y.size(3);  // stride 1, 2 or 4
            const torch::Tensor core =
                y.narrow(2, core_top / fy, core_h / fy).narrow(3, core_left / fx, core_w / fx).to(torch::kDouble);
            const torch::Tensor s = core.sum({0, 2, 3}), s2 = core.pow(2).sum({0, 2, 3});
            sum = sum.defined() ? sum + s : s;
            sum_sq = sum_sq.defined() ? sum_sq + s2 : s2;
            count += core.size(2) * core.size(3);
            throw Stop{};
          }
          const auto& [mean, var] = stats.mean_var.at(j);
          return models::instance_norm_with(in, y, mean, var);
        });
      } catch (const Stop&) {
      }
    }
    stats.mean_var.push_back(statistics_from_sums(sum, sum_sq, count, x.scalar_type()));
  }
  return stats;
}

torch::Tensor stylize_tiled(models::TransformNetImpl& net, const torch::Tensor& photo, int64_t tile,
                            const models::InstanceNormStats& stats, StylizeReport* report) {
  DPST_CHECK(tile >= 64 && tile % 4 == 0, ConfigError, "--tile " << tile << ": give a multiple of 4, at least 64");
  int64_t top = 0, left = 0;
  const torch::Tensor x = pad_to_fit(photo, kMinSide, 4, &top, &left);
  const TileGrid grid(net.options(), x.size(2), x.size(3), tile);
  models::InstanceNormStats fixed = stats;
  std::optional<models::TransformNetInference> fast;  // the CPU inference path, built once
  if (models::TransformNetInference::supports(x)) fast.emplace(net);
  if (report) {
    report->tiles = grid.count();
    report->tile_side = tile;
  }
  return grid
      .blend(x,
             [&](int64_t, const torch::Tensor& window) {
               return fast ? fast->forward(window, models::NormStatsMode::kApply, fixed)
                           : net.forward(window, models::NormStatsMode::kApply, fixed);
             })
      .narrow(2, top, photo.size(2))
      .narrow(3, left, photo.size(3));
}

torch::Tensor stylize(models::TransformNetImpl& net, const torch::Tensor& photo, const StylizeOptions& options,
                      StylizeReport* report) {
  DPST_CHECK(photo.dim() == 4 && photo.size(0) == 1 && photo.size(1) == 3 && photo.size(2) >= 1 && photo.size(3) >= 1,
             InputError, "stylize expects one (1, 3, H, W) RGB photo, got shape " << photo.sizes());
  DPST_CHECK(options.strength >= 0 && options.strength <= 1, ConfigError,
             "--strength " << options.strength << " is outside 0..1");
  const int64_t h = photo.size(2), w = photo.size(3);
  int64_t tile = options.tile;
  if (tile == 0) tile = h * w > options.auto_tile_pixels ? 1024 : -1;
  const bool tiled = tile > 0 && (h > tile || w > tile);
  if (report) *report = StylizeReport{};
  models::InstanceNormStats stats;
  torch::Tensor y;
  if (!tiled) {
    y = stylize_whole(net, photo, models::NormStatsMode::kOwn, stats);
  } else {
    DPST_CHECK(tile >= 64 && tile % 4 == 0, ConfigError, "--tile " << tile << ": give a multiple of 4, at least 64");
    int64_t top = 0, left = 0;
    const torch::Tensor x = pad_to_fit(photo, kMinSide, 4, &top, &left);
    if (options.exact_statistics && models::TransformNetInference::supports(x)) {
      y = stylize_tiled_exact(models::TransformNetInference(net), x, tile, report)
              .narrow(2, top, photo.size(2))
              .narrow(3, left, photo.size(3));
    } else if (options.exact_statistics) {
      stats = measure_statistics(net, photo, tile);
    } else {
      // Estimated on a mosaic of full-resolution crops spread evenly over the photo, one
      // tile in size: features keep their scale (a scaled-down photo would change them).
      stylize_whole(net, statistics_mosaic(photo, tile), models::NormStatsMode::kRecord, stats);
    }
    if (!y.defined()) y = stylize_tiled(net, photo, tile, stats, report);
  }
  y = y.clamp(0, 1);
  if (options.preserve_color) y = transfer_luminance(y, photo).clamp(0, 1);
  if (options.strength < 1.0) y = options.strength * y + (1.0 - options.strength) * photo;
  return y;
}

}  // namespace dpst::eval
