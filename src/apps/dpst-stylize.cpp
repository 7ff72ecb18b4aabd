// dpst-stylize: apply a trained f_W (an exported model.h5) to photos of any size, from
// 1x1 up (eval/stylize.h pads, tiles large photos so memory stays bounded, keeps the
// photo's colours or blends with a strength on request; eval/stylize_files.h does the
// files). Outputs keep the file names and the input's size. A file that cannot be read
// or stylized is skipped and named, in one line, at the end; only "nothing could be
// stylized" is fatal (exit 3). A model of several styles stylizes with each (one output
// per style, "<name>-<style>.<ext>") or with --style's choice or blend (eval/style_mix.h).
#include <CLI/CLI.hpp>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <string>

#include "common/common.h"
#include "dist/device.h"
#include "eval/style_mix.h"
#include "eval/stylize.h"
#include "eval/stylize_files.h"
#include "models/loss_nets.h"

namespace {
namespace fs = std::filesystem;
using namespace dpst;
}  // namespace

int main(int argc, char** argv) {
  dpst::keep_freed_memory_for_reuse();  // every photo allocates the same activations again
  CLI::App app{"dpst-stylize: apply a trained f_W (model.h5 from dpst-dist) to a photo or a folder of photos. "
               "Outputs keep the file names and the input's size; unreadable files are skipped and listed."};
  app.set_version_flag("--version", dpst::version_string());
  std::string model, input, output, style, device = "cpu", log_level = "warn";
  int threads = 0;
  eval::StylizeFilesOptions files;  // the CLI fills it, the main adds the folder and device
  eval::StylizeOptions& so = files.stylize;
  int64_t tile = 0;
  app.add_option("--model", model, "trained f_W weight file (model.h5)")->required();
  app.add_option("--input", input, "an image file, or a folder of images (not recursive)")->required();
  app.add_option("--style", style,
                 "for a model of several styles: one style (candy) or a blend of their InstanceNorm rows "
                 "(candy=0.7,wave=0.3; weights scaled to sum to 1); default: one output per style, named "
                 "<photo>-<style>");
  app.add_option("--output", output, "output folder (created; must not be the input folder)")->required();
  app.add_option("--size", files.size, "resize so the shorter side is N before stylizing (default: keep the size)")
      ->check(CLI::Range(8, 16384));
  app.add_option("--tile", tile,
                 "tile side in pixels (multiple of 4, >= 64) for large photos; 0 = automatic: photos above "
                 "2048x2048 pixels go in 1024-pixel tiles, so memory stays near that of a 1.2 MP photo; "
                 "-1 = never tile")
      ->check(CLI::Range(int64_t{-1}, int64_t{65536}));
  app.add_flag("--preserve-color", so.preserve_color,
               "keep the photo's colours: luminance from the stylized image, chroma from the photo (YCbCr)");
  app.add_option("--strength", so.strength, "0..1: blend of the photo (0) and the stylized image (1, default)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--format", files.format, "keep (the input's .png/.jpg, else .png) | png | jpg")
      ->check(CLI::IsMember({"keep", "png", "jpg"}));
  app.add_option("--jpeg-quality", files.jpeg_quality, "JPEG quality (default 95)")->check(CLI::Range(1, 100));
  dpst::add_device_threads_log_options(app, &device, &threads, &log_level);
  if (const auto code = dpst::parse_command_line(app, argc, argv)) return *code;
  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, log_level);
    torch::set_num_threads(dpst::tool_threads(threads));
    const torch::Device dev = dist::select_device(device, "--device", 0, 1);
    so.tile = tile;
    DPST_CHECK(tile <= 0 || (tile >= 64 && tile % 4 == 0), ConfigError,
               "--tile " << tile << ": give a multiple of 4, at least 64 (or 0 = automatic, -1 = never)");
    const auto inputs = eval::list_inputs(input);
    create_folder(output);
    for (const auto& f : inputs)
      DPST_CHECK(!fs::equivalent(f.parent_path().empty() ? "." : f.parent_path(), output), ConfigError,
                 "--output " << output << " is the input folder: the outputs would replace the photos");
    std::vector<std::string> style_names;
    const models::TransformNet loaded = models::load_transform_net(model, &style_names);
    std::vector<eval::LabelledNet> nets;
    if (style_names.empty()) {
      DPST_CHECK(style.empty(), InputError, "--style " << style << ": " << model << " holds one style");
      nets.push_back({"", loaded});
    } else {
      for (const auto& mix : eval::parse_style_mixes(style, style_names))
        nets.push_back({mix.label, models::blended(*loaded, mix.weights)});
    }
    for (auto& n : nets) {
      n.net->to(dev);
      n.net->eval();
    }
    files.output = output;
    files.device = dev;
    const eval::StylizeFilesResult r = eval::stylize_files(nets, inputs, files, std::cout);
    std::cout << "stylized " << r.done << " of " << inputs.size() << " image(s) in " << r.seconds << " s ("
              << (r.seconds > 0 ? r.done / r.seconds : 0.0) << " images/s, decode to save) into " << output << "\n";
    if (!r.skipped.empty()) {
      std::cerr << "skipped " << r.skipped.size() << " file(s):\n";
      for (const auto& [file, why] : r.skipped) std::cerr << "  " << file << ": " << why << "\n";
    }
    DPST_CHECK(r.done > 0, InputError,
               "nothing could be stylized: " << (inputs.empty() ? "the input folder " + input + " is empty"
                                                                : std::to_string(inputs.size()) + " file(s) skipped"));
    return dpst::kExitOk;
  });
}
