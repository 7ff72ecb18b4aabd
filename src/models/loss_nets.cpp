#include "models/loss_nets.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/errors.h"
#include "common/text.h"
#include "models/det_init.h"

namespace dpst::models {
namespace fs = std::filesystem;

namespace {

// Returns true when the net must start from random weights (allowed and logged).
bool use_random_init(const FrozenNetSpec& spec, const std::string& network) {
  if (!spec.weights.empty()) return false;
  DPST_CHECK(spec.allow_random_init, InputError,
             "no weight file for the " << network << " loss network: set " << spec.config_key
                                       << " to a file made by dataprep/convert_weights.py (check it with "
                                          "`dpst-weights check`), or set loss_nets.allow_random_init: true "
                                          "for a smoke test (its numbers then mean nothing)");
  spdlog::warn("!!! {} loss network uses RANDOM weights (loss_nets.allow_random_init: true, {} not set): "
               "losses and metrics of this run are not comparable to pretrained ones; every results "
               "table records this. !!!",
               network, spec.config_key);
  return true;
}

Provenance random_provenance() {
  return {true, "random init (seed " + std::to_string(kLossNetRandomSeed) + ")", "", ""};
}

void check_network_attribute(const WeightFileInfo& info, const std::string& network) {
  const std::string found = info.attribute("network");
  DPST_CHECK(found.empty() || found == network, InputError,
             "weight file '" << info.path.string() << "' holds a '" << found << "' network, not " << network);
}

// A file written by `dpst-weights init` holds random weights: same rules as no file.
Provenance file_provenance(const FrozenNetSpec& spec, const WeightFileInfo& info, const std::string& network) {
  if (info.attribute("random_init") != "true") return {false, spec.weights.string(), "", ""};
  DPST_CHECK(spec.allow_random_init, InputError,
             "weight file '" << spec.weights.string() << "' (" << spec.config_key
                             << ") holds randomly initialised weights (dpst-weights init), not trained ones; "
                                "set loss_nets.allow_random_init: true to use it for a smoke test");
  spdlog::warn("!!! {} loss network uses RANDOM weights from {} (loss_nets.allow_random_init: true): losses and "
               "metrics of this run are not comparable to pretrained ones. !!!",
               network, spec.weights.string());
  return {true, spec.weights.string() + " (random init)", "", ""};
}

}  // namespace

std::string Provenance::describe() const {
  std::string s = variant.empty() ? source : variant + ": " + source;  // source says "random init" itself
  if (!file_source.empty()) s += " (from " + file_source + ")";
  return s;
}

LoadedVgg16 load_vgg16(const FrozenNetSpec& spec) {
  LoadedVgg16 out{Vgg16(), {}};
  if (use_random_init(spec, "VGG16")) {
    det_init(*out.net, kLossNetRandomSeed);
    out.provenance = random_provenance();
  } else {
    const WeightFileInfo info = load_weights(*out.net, spec.weights, "vgg16");
    check_network_attribute(info, "vgg16");
    out.net->set_preprocessing(parse_vgg_preprocessing(info.attribute("preprocessing", "imagenet")));
    out.provenance = file_provenance(spec, info, "VGG16");
    out.provenance.file_source = info.attribute("source");
    spdlog::info("VGG16 loss network: {} (preprocessing {})", spec.weights.string(),
                 to_string(out.net->preprocessing()));
  }
  freeze(*out.net);
  return out;
}

LoadedHourglass load_hourglass(const FrozenNetSpec& spec, std::optional<DepthVariant> expected) {
  LoadedHourglass out;
  if (use_random_init(spec, "hourglass depth")) {
    out.net = Hourglass(expected.value_or(DepthVariant::Hourglass3));
    det_init(*out.net, kLossNetRandomSeed);
    out.provenance = random_provenance();
  } else {
    const WeightFileInfo info = read_weight_file_info(spec.weights);
    check_network_attribute(info, "hourglass");
    const DepthVariant variant = parse_depth_variant(info.attribute("depth_variant", "hourglass3"),
                                                     "weight file '" + spec.weights.string() + "' attribute depth_variant");
    DPST_CHECK(!expected || *expected == variant, ConfigError,
               "loss_nets.depth_net is " << to_string(*expected) << " but the depth weight file '" << spec.weights.string()
                                         << "' (" << spec.config_key << ") holds the " << to_string(variant)
                                         << " variant (its depth_variant attribute; "
                                         << (variant == DepthVariant::MegaDepth ? "MegaDepth's head predicts log depth"
                                                                                : "hourglass3's head predicts relative depth")
                                         << "): set loss_nets.depth_net: " << to_string(variant)
                                         << ", or convert the weights of the variant you meant");
    out.net = Hourglass(variant);
    load_weights(*out.net, spec.weights, "hourglass");
    out.provenance = file_provenance(spec, info, "hourglass depth");
    out.provenance.file_source = info.attribute("source");
    spdlog::info("hourglass depth network ({}): {}", to_string(variant), spec.weights.string());
  }
  out.provenance.variant = to_string(out.net->variant());
  freeze(*out.net);
  return out;
}

LossNets load_loss_nets(const config::LossNetsConfig& config, bool need_depth) {
  const bool allow = config.allow_random_init;
  LossNets nets;
  nets.vgg = load_vgg16({config.vgg16_weights, allow, "loss_nets.vgg16_weights"});
  if (need_depth)
    nets.depth = load_hourglass({config.depth_weights, allow, "loss_nets.depth_weights"},
                                parse_depth_variant(config.depth_net, "loss_nets.depth_net"));
  return nets;
}

void export_transform_net(const TransformNetImpl& net, const fs::path& path, const std::string& source,
                          const std::vector<std::string>& style_names) {
  std::map<std::string, std::string> attributes = {
      {"network", "transform"},
      {"layout", "pytorch/examples fast_neural_style TransformerNet"},
      {"preprocessing", "rgb_0_1"},
      {"io_range", "input and output RGB in [0, 1] (pytorch/examples uses 0-255: feed x/255, "
                   "multiply the output by 255)"},
      {"width", std::to_string(net.options().width)},
      {"residual_blocks", std::to_string(net.options().residual_blocks)},
      {"source", source}};
  if (net.options().styles > 1) {
    DPST_CHECK(static_cast<int64_t>(style_names.size()) == net.options().styles, InternalError,
               "an f_W of " << net.options().styles << " styles needs as many names, got " << style_names.size());
    for (const auto& name : style_names)
      DPST_CHECK(!name.empty() && name.find_first_of(",=") == std::string::npos, InputError,
                 "style name '" << name << "' must be non-empty without ',' or '=' (dpst-stylize --style uses them)");
    attributes["styles"] = joined(style_names, ",");
    attributes["layout"] = "pytorch/examples fast_neural_style TransformerNet with (styles, C) InstanceNorm "
                           "weight and bias (conditional instance norm; dpst-stylize --style picks or blends them)";
  }
  save_weights(net, path, attributes);
}

TransformNet load_transform_net(const fs::path& path, std::vector<std::string>* style_names) {
  const WeightFileInfo info = read_weight_file_info(path);
  check_network_attribute(info, "transform");
  const std::string pre = info.attribute("preprocessing", "rgb_0_1");
  DPST_CHECK(pre == "rgb_0_1", InputError,
             "weight file '" << path.string() << "' is an f_W for '" << pre
                             << "' images; dpst's f_W works on RGB in [0, 1] (rgb_0_1)");
  TransformNetOptions options;
  std::vector<std::string> names;
  if (!info.attribute("width").empty()) {
    options.width = std::stoll(info.attribute("width"));
    options.residual_blocks = std::stoll(info.attribute("residual_blocks", "5"));
    if (const std::string styles = info.attribute("styles"); !styles.empty()) {
      names = split(styles, ',');
      options.styles = static_cast<int64_t>(names.size());
    }
  } else {
    // No attributes (e.g. written by another tool): infer from the shapes.
    const auto tensors = read_all_tensors(path);
    auto it = tensors.find("conv1.conv2d.weight");
    DPST_CHECK(it != tensors.end(), InputError,
               "weight file '" << path.string() << "' has no 'conv1.conv2d.weight': not a transform net");
    options.width = it->second.size(0);
    options.residual_blocks = 0;
    while (tensors.count("res" + std::to_string(options.residual_blocks + 1) + ".conv1.conv2d.weight"))
      ++options.residual_blocks;
    if (auto in1 = tensors.find("in1.weight"); in1 != tensors.end() && in1->second.dim() == 2) {
      options.styles = in1->second.size(0);
      for (int64_t s = 0; s < options.styles; ++s) names.push_back("style" + std::to_string(s));
    }
  }
  TransformNet net(options);
  load_weights(*net, path, "transform (width " + std::to_string(options.width) + ", " +
                               std::to_string(options.residual_blocks) + " residual blocks" +
                               (options.styles > 1 ? ", " + std::to_string(options.styles) + " styles" : "") + ")");
  if (style_names) *style_names = names;
  return net;
}

std::shared_ptr<torch::nn::Module> make_network(const std::string& name, TransformNetOptions options) {
  if (name == "vgg16") return Vgg16().ptr();
  if (name == "hourglass") return Hourglass().ptr();
  if (name == "transform") return TransformNet(options).ptr();
  DPST_THROW(ConfigError, "unknown network '" << name << "' (known: vgg16, hourglass, transform)");
}

}  // namespace dpst::models
