// Applying a trained f_W to a photo of any size (dpst-stylize's work, also used by the
// tests): padding so that any input from 1x1 up runs, tiling so that memory stays bounded
// on large photos, keeping the photo's colours, and a style strength.
#pragma once

#include <cstdint>

#include <torch/types.h>

#include "models/transform_net.h"

namespace dpst::eval {

struct StylizeOptions {
  // Tile side in pixels (a multiple of 4, at least 64): 0 = automatic (tiles only when the
  // photo has more than auto_tile_pixels pixels), -1 = never tile.
  int64_t tile = 0;
  int64_t auto_tile_pixels = 2048 * 2048;
  // Tiled: measure the whole photo's InstanceNorm statistics exactly over the tiles (one
  // pass per norm; on the CPU each tile's residual-block activations are kept between
  // passes, so most passes cost one or two convolutions; elsewhere each pass runs from the
  // photo up to its norm, about 6x the work of one forward pass for the paper's f_W), or
  // estimate them from a mosaic of crops (one tile's work; close, not equal).
  bool exact_statistics = true;
  // Keep the photo's colours: luminance (Y of YCbCr, BT.601) from the stylized image,
  // chroma (Cb, Cr) from the photo (Gatys et al. 2016, "Preserving color in neural
  // artistic style transfer").
  bool preserve_color = false;
  // 0..1: output = strength * stylized + (1 - strength) * photo.
  double strength = 1.0;
};

// What stylize() did, for the log.
struct StylizeReport {
  int64_t tiles = 1;      // 1 = the whole photo in one pass
  int64_t tile_side = 0;  // the tile side used (0 when untiled)
};

// f_W on a (1, 3, H, W) RGB photo in [0, 1] of any size >= 1x1; returns (1, 3, H, W) in
// [0, 1]. The photo is padded (mirrored as far as its size allows, then repeated) to at
// least kMinSide and a multiple of 4 on each side, stylized, and cropped back.
// Tiled: every tile is normalised with one set of InstanceNorm statistics for the whole
// photo (measured over the tiles, or estimated: exact_statistics); each tile runs on its
// core plus f_W's receptive radius plus a blend band, and neighbouring tiles are
// cross-faded over the band. With measured statistics the tiled result equals the
// untiled one to float rounding, blend bands included.
torch::Tensor stylize(models::TransformNetImpl& net, const torch::Tensor& photo, const StylizeOptions& options,
                      StylizeReport* report = nullptr);

// The whole photo's InstanceNorm statistics, measured over its tiles (exact_statistics).
models::InstanceNormStats measure_statistics(models::TransformNetImpl& net, const torch::Tensor& photo, int64_t tile);

// The tiled path with given statistics (tests compare it with the untiled pass that uses
// the same statistics).
torch::Tensor stylize_tiled(models::TransformNetImpl& net, const torch::Tensor& photo, int64_t tile,
                            const models::InstanceNormStats& stats, StylizeReport* report = nullptr);

// f_W over the whole (padded) photo, with its own InstanceNorm statistics (kOwn), or the
// given ones (kApply), or recording them (kRecord).
torch::Tensor stylize_whole(models::TransformNetImpl& net, const torch::Tensor& photo, models::NormStatsMode mode,
                            models::InstanceNormStats& stats);

// Pads a (B, C, H, W) image to at least min_side and a multiple of `multiple` per side,
// centred, mirroring as far as each side allows and repeating the edge beyond that.
// `top`/`left` receive where the original starts in the result.
torch::Tensor pad_to_fit(const torch::Tensor& x, int64_t min_side, int64_t multiple, int64_t* top, int64_t* left);

// Luminance of `stylized`, chroma of `photo` (both (B, 3, H, W) RGB in [0, 1]).
torch::Tensor transfer_luminance(const torch::Tensor& stylized, const torch::Tensor& photo);

// f_W needs this much image on each side after padding (the residual blocks run at 1/4
// size with 3x3 mirrored padding, which needs at least 2 pixels there).
constexpr int64_t kMinSide = 16;

}  // namespace dpst::eval
