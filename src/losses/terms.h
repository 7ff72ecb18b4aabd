// The loss terms of DESIGN.md §6, exactly. Features are (B, C, H, W); every term is a
// 0-dim tensor. Layer lists name taps (models/taps.h); each term sums over its layers.
#pragma once

#include <map>
#include <string>

#include <torch/torch.h>

#include "models/taps.h"

namespace dpst::losses {

using models::TapNames;
using models::Taps;

// G = F Fᵀ / (C·H·W) with F = features reshaped (B, C, H·W); returns (B, C, C).
torch::Tensor gram(const torch::Tensor& features);

// Σ over layers of mean over B·C·H·W of (out − target)². Used for content (VGG taps)
// and depth (hourglass taps) alike; `what` names the term in errors.
torch::Tensor feature_mse(const Taps& out, const Taps& target, const TapNames& layers, const std::string& what);
inline torch::Tensor content_loss(const Taps& out, const Taps& target, const TapNames& layers) {
  return feature_mse(out, target, layers, "content");
}
inline torch::Tensor depth_loss(const Taps& out, const Taps& target, const TapNames& layers) {
  return feature_mse(out, target, layers, "depth");
}

// Σ over layers of mean over B·C·C of (G(out) − G_style)², G_style (1, C, C) or (B, C, C).
torch::Tensor style_loss(const Taps& out, const std::map<std::string, torch::Tensor>& style_grams,
                         const TapNames& layers);
// The same per image: (B), element b = Σ over layers of mean over C·C of (G(out)_b − G_style_b)²,
// with G_style (B, C, C), each image's own style's Gram (a multi-style trial). Its mean is
// style_loss.
torch::Tensor style_loss_per_image(const Taps& out, const std::map<std::string, torch::Tensor>& style_grams,
                                   const TapNames& layers);

// mean over the horizontal neighbour differences of (ŷ[..., x+1] − ŷ[..., x])²
// plus mean over the vertical ones of (ŷ[..., y+1, :] − ŷ[..., y, :])².
torch::Tensor tv_loss(const torch::Tensor& y);

}  // namespace dpst::losses
