// dpst-weights: inspect weight files before spending GPU hours on them.
//   check    validate a weight file against a network (exit 0, or 3 with every problem)
//   features write every tap's activation for one image, to compare with PyTorch
//   info     parameter and buffer counts, GMAC per image at N x N; of a weight file, also
//            an f_W's style names and its shared and per-style parameters
//   split    each style of a multi-style f_W as a plain one-style TransformerNet file
//   init     write a deterministically initialised network (marked random_init)
// The networks and the weight-file format live in src/models.
#include <CLI/CLI.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/common.h"
#include "common/text.h"
#include "data/image_io.h"
#include "models/models.h"
#include "models/provenance_text.h"
#include "eval/style_mix.h"

namespace {
namespace fs = std::filesystem;
using namespace dpst;

// Reads an image as RGB in [0, 1], resized to size x size (INTER_AREA), shape (1, 3, N, N).
// Decoded as the trainer decodes; a plain square resize (no crop), as the golden files were made.
torch::Tensor read_image(const fs::path& path, int size) {
  const cv::Mat rgb = data::decode_image(path);
  cv::Mat resized;
  cv::resize(rgb, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  torch::Tensor t = torch::from_blob(resized.data, {size, size, 3}, torch::kUInt8).clone();
  return t.permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).div(255.0).contiguous();
}

std::shared_ptr<torch::nn::Module> load_net(const std::string& net, const fs::path& file) {
  if (net == "vgg16") return models::load_vgg16({file, true, "--weights"}).net.ptr();
  if (net == "hourglass") return models::load_hourglass({file, true, "--weights"}).net.ptr();
  if (net == "transform") return models::load_transform_net(file).ptr();
  DPST_THROW(ConfigError, "unknown network '" << net << "' (known: vgg16, hourglass, transform)");
}

int check(const std::string& net, const fs::path& file) {
  auto module = load_net(net, file);
  const auto info = models::read_weight_file_info(file);
  std::cout << "OK: " << file.string() << " matches the " << net << " network ("
            << models::named_state(*module).size() << " tensors, " << models::parameter_count(*module)
            << " parameters";
  if (!info.attribute("preprocessing").empty()) std::cout << ", preprocessing " << info.attribute("preprocessing");
  if (net == "hourglass") {
    std::cout << ", depth network " << models::to_string(std::dynamic_pointer_cast<models::HourglassImpl>(module)->variant());
  }
  if (!info.attribute("source").empty()) std::cout << ", from " << info.attribute("source");
  if (info.attribute("random_init") == "true") std::cout << ", " << models::kRandomInit;
  std::cout << ")\n";
  return kExitOk;
}

int features(const std::string& net, const fs::path& weights, const fs::path& image, int size, const fs::path& out) {
  const torch::Tensor x = read_image(image, size);
  auto module = load_net(net, weights);
  torch::NoGradGuard no_grad;
  models::Taps taps;
  if (net == "vgg16") {
    taps = std::dynamic_pointer_cast<models::Vgg16Impl>(module)->forward_taps(x, models::Vgg16Impl::tap_names());
  } else if (net == "hourglass") {
    taps = std::dynamic_pointer_cast<models::HourglassImpl>(module)->forward_taps(x, models::HourglassImpl::tap_names());
  } else {
    taps["output"] = std::dynamic_pointer_cast<models::TransformNetImpl>(module)->forward(x);
  }
  std::vector<std::pair<std::string, torch::Tensor>> tensors{{"input", x}};
  for (const auto& [name, t] : taps) tensors.emplace_back(name, t);
  std::map<std::string, std::string> attributes = {{"network", net}, {"weights", weights.string()}, {"image", image.string()},
                         {"size", std::to_string(size)},
                         {"input", "RGB in [0, 1], resized with OpenCV INTER_AREA; taps include the "
                                   "network's own preprocessing"}};
  if (net == "hourglass")
    attributes["depth_variant"] = models::to_string(std::dynamic_pointer_cast<models::HourglassImpl>(module)->variant());
  models::write_tensors(out, tensors, attributes);
  std::cout << "wrote " << out.string() << ":";
  for (const auto& [name, t] : tensors) std::cout << " " << name << t.sizes();
  std::cout << "\n";
  return kExitOk;
}

double gmac(torch::nn::Module& module, const std::string& net, int size);

// info FILE: the file's network and provenance; for an f_W its styles and how many
// parameters each style owns (its InstanceNorm rows) against the shared ones.
int file_info(std::string net, const fs::path& file, int size) {
  const auto info = models::read_weight_file_info(file);
  if (net.empty()) net = info.attribute("network");
  DPST_CHECK(!net.empty(), InputError, file.string() << ": no network attribute; pass --net");
  auto module = load_net(net, file);
  std::cout << "file        " << file.string() << "\nnetwork     " << net;
  if (!info.attribute("source").empty()) std::cout << "\nsource      " << info.attribute("source");
  if (info.attribute("random_init") == "true") std::cout << "\nweights     " << models::kRandomInit;
  std::cout << "\nparameters  " << models::parameter_count(*module) << "\nbuffers     " << models::buffer_count(*module);
  if (net == "transform") {
    std::vector<std::string> names;
    const models::TransformNet tn = models::load_transform_net(file, &names);
    const int64_t styles = tn->options().styles;
    int64_t per_style = 0;
    const auto rows = tn->style_row_parameters();
    for (const auto& item : tn->named_parameters())
      if (std::find(rows.begin(), rows.end(), item.key()) != rows.end()) per_style += item.value().numel();
    const int64_t total = models::parameter_count(*tn);
    std::cout << "\nwidth       " << tn->options().width << "\nblocks      " << tn->options().residual_blocks
              << "\nstyles      " << styles << (names.empty() ? "" : " (" + joined(names, ", ") + ")")
              << "\nshared      " << total - per_style << " parameters"
              << "\nper style   " << per_style / styles << " parameters (InstanceNorm weight and bias rows)";
  }
  std::cout << "\nGMAC/image  " << gmac(*module, net, size) << " at " << size << "x" << size << " (convolutions)\n";
  return kExitOk;
}

// split FILE --out DIR: one plain TransformerNet per style (or per --style mix).
int split(const fs::path& file, const fs::path& out, const std::string& style) {
  std::vector<std::string> names;
  const models::TransformNet net = models::load_transform_net(file, &names);
  DPST_CHECK(!names.empty(), InputError, file.string() << " holds one style: it is a plain TransformerNet already");
  create_folder(out);
  for (const auto& mix : eval::parse_style_mixes(style, names)) {
    const fs::path to = out / (mix.label + ".h5");
    models::export_transform_net(*models::blended(*net, mix.weights), to,
                                 "dpst-weights split of " + file.string() + ", style " + mix.label);
    std::cout << "wrote " << to.string() << "\n";
  }
  return kExitOk;
}

double gmac(torch::nn::Module& module, const std::string& net, int size) {
  torch::NoGradGuard no_grad;
  models::MacCounter counter;
  const torch::Tensor x = torch::zeros({1, 3, size, size});
  if (net == "vgg16") dynamic_cast<models::Vgg16Impl&>(module).forward_taps(x, models::Vgg16Impl::tap_names());
  if (net == "hourglass") dynamic_cast<models::HourglassImpl&>(module).forward(x);
  if (net == "transform") {
    auto& fw = dynamic_cast<models::TransformNetImpl&>(module);
    const int64_t styles = fw.options().styles;  // the same cost for any style weights
    fw.forward(x, torch::full({1, styles}, 1.0 / static_cast<double>(styles)));
  }
  return counter.macs_per_image() / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dpst-weights: check weight files, dump a network's tap activations for one image, "
               "and print network sizes. Weight files come from dataprep/convert_weights.py."};
  app.set_version_flag("--version", dpst::version_string());
  app.require_subcommand(1);
  std::string net, log_level = "warn";
  std::string file, weights, image, out;
  int size = 256, width = 32, blocks = 5;
  uint64_t seed = 0;
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|critical|off");
  const std::vector<std::string> nets = {"vgg16", "hourglass", "transform"};

  auto* c = app.add_subcommand("check", "Validate FILE against a network: exit 0, or 3 listing every missing, "
                                        "unexpected and mismatched key");
  c->add_option("--net", net, "vgg16 | hourglass | transform")->required()->check(CLI::IsMember(nets));
  c->add_option("file", file, "HDF5 weight file")->required();

  auto* f = app.add_subcommand("features", "Write every tap's activation for one image (resized to N x N as the "
                                           "trainer would) to an HDF5 file, to compare with PyTorch");
  f->add_option("--net", net, "vgg16 | hourglass | transform")->required()->check(CLI::IsMember(nets));
  f->add_option("--weights", weights, "HDF5 weight file")->required();
  f->add_option("--image", image, "image file (any format OpenCV reads)")->required();
  f->add_option("--size", size, "resize to N x N (hourglass: a multiple of 16)")->check(CLI::Range(16, 4096));
  f->add_option("--out", out, "output HDF5 file: dataset 'input' and one per tap")->required();

  auto* i = app.add_subcommand("info", "Parameter count, buffer count and GMAC per image at N x N; with a weight "
                                       "file, that file's network (an f_W: its styles, shared and per-style parameters)");
  i->add_option("--net", net, "vgg16 | hourglass | transform (default: the file's network)")->check(CLI::IsMember(nets));
  i->add_option("file", file, "HDF5 weight file (optional)");
  i->add_option("--size", size, "image side N (default 256)")->check(CLI::Range(16, 4096));
  i->add_option("--width", width, "transform: model.width (default 32)")->check(CLI::Range(1, 1024));
  i->add_option("--blocks", blocks, "transform: model.residual_blocks (default 5)")->check(CLI::Range(0, 64));

  std::string style;
  auto* sp = app.add_subcommand("split", "Write each style of a multi-style f_W (or one --style choice or blend) as a "
                                         "plain one-style TransformerNet weight file, <out>/<style>.h5, which "
                                         "dataprep/export_model.py and every TransformerNet loader take");
  sp->add_option("file", file, "model.h5 of several styles")->required();
  sp->add_option("--out", out, "output folder (created)")->required();
  sp->add_option("--style", style, "one style (candy) or a blend (candy=0.7,wave=0.3); default: every style");

  auto* n = app.add_subcommand("init", "Write a deterministically initialised network (marked random_init: loss "
                                       "networks from it need loss_nets.allow_random_init)");
  n->add_option("--net", net, "vgg16 | hourglass | transform")->required()->check(CLI::IsMember(nets));
  n->add_option("--out", out, "output HDF5 weight file")->required();
  n->add_option("--seed", seed, "seed of the deterministic values (default 0)");
  n->add_option("--width", width, "transform: model.width (default 32)")->check(CLI::Range(1, 1024));
  n->add_option("--blocks", blocks, "transform: model.residual_blocks (default 5)")->check(CLI::Range(0, 64));

  if (const auto code = dpst::parse_command_line(app, argc, argv)) return *code;
  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, log_level);
    torch::set_num_threads(dpst::tool_threads(0));
    if (c->parsed()) return check(net, file);
    if (f->parsed()) return features(net, weights, image, size, out);
    const models::TransformNetOptions options{width, blocks};
    if (sp->parsed()) return split(file, out, style);
    if (i->parsed() && !file.empty()) return file_info(net, file, size);
    DPST_CHECK(!i->parsed() || !net.empty(), ConfigError, "info: give --net, or a weight file");
    if (i->parsed()) {
      auto module = models::make_network(net, options);
      std::cout << "network     " << net << (net == "transform" ? " (width " + std::to_string(width) + ", " +
                                                                      std::to_string(blocks) + " residual blocks)"
                                                                : "")
                << "\nparameters  " << models::parameter_count(*module) << "\nbuffers     "
                << models::buffer_count(*module) << "\nGMAC/image  " << gmac(*module, net, size) << " at " << size
                << "x" << size << " (convolutions)\n";
      return dpst::kExitOk;
    }
    auto module = models::make_network(net, options);
    models::det_init(*module, seed);
    if (net == "transform") {
      auto tn = models::TransformNet(std::dynamic_pointer_cast<models::TransformNetImpl>(module));
      models::export_transform_net(*tn, out, "dpst-weights init (deterministic, seed " + std::to_string(seed) + ")");
    } else {
      models::save_weights(*module, out,
                           {{"network", net},
                            {"preprocessing", net == "vgg16" ? "imagenet" : "rgb_0_1"},
                            {"random_init", "true"},
                            {"source", "dpst-weights init (deterministic, seed " + std::to_string(seed) +
                                           "): NOT pretrained"}});
    }
    std::cout << "wrote " << out << "\n";
    return dpst::kExitOk;
  });
}
