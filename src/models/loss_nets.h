// Building the frozen loss networks (VGG16, hourglass) from weight files, and f_W's
// weight files (export/import in pytorch/examples' TransformerNet layout).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "models/hourglass.h"
#include "models/transform_net.h"
#include "models/vgg16.h"
#include "models/weights_io.h"

namespace dpst::models {

// Seed of the deterministic init of a loss network started without weights: fixed, so
// every rank and every trial sees the same "random" network.
constexpr uint64_t kLossNetRandomSeed = 0;

struct FrozenNetSpec {
  std::filesystem::path weights;   // empty = none
  bool allow_random_init = false;  // loss_nets.allow_random_init
  std::string config_key;          // named in errors, e.g. "loss_nets.vgg16_weights"
};

// Whether a loss network started from a weight file or from a random init.
struct Provenance {
  bool random_init = false;
  std::string source;       // the weight file's path, or "random init (seed 0)"
  std::string file_source;  // the file's own `source` attribute (what it was converted from), if any
  std::string variant;      // the depth network's variant (hourglass3 | megadepth); empty for VGG16
  // "megadepth: depth.h5 (from hourglass-megadepth net_G.pth)": what results tables print.
  std::string describe() const;
};

struct LoadedVgg16 {
  Vgg16 net{nullptr};
  Provenance provenance;
};
struct LoadedHourglass {
  Hourglass net{nullptr};
  Provenance provenance;
};

// Loads strictly and freezes. With no weight file: InputError naming the config key,
// unless allow_random_init, in which case a loud warning is logged and the net is filled
// by det_init(kLossNetRandomSeed). VGG16 takes its preprocessing from the file.
LoadedVgg16 load_vgg16(const FrozenNetSpec& spec);
// The hourglass's variant is the file's depth_variant attribute (files without one are
// hourglass3: the layout every dpst converter wrote before MegaDepth). With `expected`
// (loss_nets.depth_net), a file of the other variant is a ConfigError naming both; a
// random init takes `expected`.
LoadedHourglass load_hourglass(const FrozenNetSpec& spec, std::optional<DepthVariant> expected = std::nullopt);

// Both loss networks as the config asks (the depth net only when need_depth).
struct LossNets {
  LoadedVgg16 vgg;
  LoadedHourglass depth;  // depth.net is empty when not needed
  // True when any loss network runs on random weights: record it with every result.
  bool random_init() const { return vgg.provenance.random_init || (depth.net && depth.provenance.random_init); }
};
LossNets load_loss_nets(const config::LossNetsConfig& config, bool need_depth);

// f_W weight files: the TransformerNet names plus attributes network=transform, width,
// residual_blocks, preprocessing=rgb_0_1 (input and output RGB in [0, 1]). A net of several
// styles ((N, C) InstanceNorm rows) also has styles = its style names, comma-separated, in
// row order: `style_names` must then name every row (no ',' or '=' in a name).
void export_transform_net(const TransformNetImpl& net, const std::filesystem::path& path, const std::string& source,
                          const std::vector<std::string>& style_names = {});
// Reads width/residual_blocks/styles from the file's attributes (or infers them from the
// shapes), builds the net and loads it strictly; `style_names` (when given) receives the
// style names (empty for a one-style file). InputError if the file says its images are
// 0-255 (a pytorch/examples model converted as such).
TransformNet load_transform_net(const std::filesystem::path& path, std::vector<std::string>* style_names = nullptr);

// Builds an empty network by name: "vgg16", "hourglass", "transform" (with options).
// ConfigError for other names.
std::shared_ptr<torch::nn::Module> make_network(const std::string& name, TransformNetOptions options = {});

}  // namespace dpst::models
