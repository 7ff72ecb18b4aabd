// dpst-stylize: apply a trained f_W (an exported model.h5) to photos of any size, from
// 1x1 up (eval/stylize.h pads, tiles large photos so memory stays bounded, keeps the
// photo's colours or blends with a strength on request). Outputs keep the file names and
// the input's size. A file that cannot be read or stylized is skipped and named, in one
// line, at the end; only "nothing could be stylized" is fatal (exit 3).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/common.h"
#include "common/text.h"
#include "data/image_io.h"
#include "data/image_tensor.h"
#include "dist/device.h"
#include "eval/grid.h"
#include "eval/stylize.h"
#include "models/loss_nets.h"

namespace {
namespace fs = std::filesystem;
using namespace dpst;

// The files to stylize: one file, or a folder's regular files (not hidden) by name.
std::vector<fs::path> list_inputs(const fs::path& input) {
  DPST_CHECK(fs::exists(input), InputError, input.string() << ": no such file or folder");
  if (!fs::is_directory(input)) return {input};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(input)) {
    const std::string name = e.path().filename().string();
    // Symlinks are followed; a dangling one is listed so it is reported, not ignored.
    if (!name.empty() && name[0] != '.' && !e.is_directory()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Same name when it is already .png/.jpg/.jpeg (and --format keep); else a .png (or
// .jpg) is appended, so "a.bmp" -> "a.bmp.png" never collides with "a.png".
std::string output_name(const fs::path& in, const std::string& format) {
  const std::string name = in.filename().string(), ext = lower_extension(in);
  const bool saveable = ext == ".png" || ext == ".jpg" || ext == ".jpeg";
  if (format == "keep") return saveable ? name : name + ".png";
  const std::string want = format == "png" ? ".png" : ".jpg";
  if (ext == want || (want == ".jpg" && ext == ".jpeg")) return name;
  return (saveable ? in.stem().string() : name) + want;
}

// Testing hook: DPST_FAULT_INJECT=stylize-torch-error makes photos whose name contains
// "inject" fail inside LibTorch, to check that its stack trace never reaches the user.
void maybe_inject_torch_error(const std::string& name) {
  const char* v = std::getenv("DPST_FAULT_INJECT");
  if (v && std::string(v) == "stylize-torch-error" && name.find("inject") != std::string::npos)
    torch::zeros({2}).view({3});
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dpst-stylize: apply a trained f_W (model.h5 from dpst-dist) to a photo or a folder of photos. "
               "Outputs keep the file names and the input's size; unreadable files are skipped and listed."};
  app.set_version_flag("--version", dpst::version_string());
  std::string model, input, output, device = "cpu", format = "keep", log_level = "warn";
  int size = 0, quality = 95, threads = 0;
  eval::StylizeOptions so;
  int64_t tile = 0;
  app.add_option("--model", model, "trained f_W weight file (model.h5)")->required();
  app.add_option("--input", input, "an image file, or a folder of images (not recursive)")->required();
  app.add_option("--output", output, "output folder (created; must not be the input folder)")->required();
  app.add_option("--size", size, "resize so the shorter side is N before stylizing (default: keep the size)")
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
  app.add_option("--format", format, "keep (the input's .png/.jpg, else .png) | png | jpg")
      ->check(CLI::IsMember({"keep", "png", "jpg"}));
  app.add_option("--jpeg-quality", quality, "JPEG quality (default 95)")->check(CLI::Range(1, 100));
  dpst::add_device_threads_log_options(app, &device, &threads, &log_level);
  if (const auto code = dpst::parse_command_line(app, argc, argv)) return *code;
  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, log_level);
    torch::set_num_threads(dpst::tool_threads(threads));
    const torch::Device dev = dist::select_device(device, "--device", 0, 1);
    so.tile = tile;
    DPST_CHECK(tile <= 0 || (tile >= 64 && tile % 4 == 0), ConfigError,
               "--tile " << tile << ": give a multiple of 4, at least 64 (or 0 = automatic, -1 = never)");
    const auto inputs = list_inputs(input);
    create_folder(output);
    for (const auto& f : inputs)
      DPST_CHECK(!fs::equivalent(f.parent_path().empty() ? "." : f.parent_path(), output), ConfigError,
                 "--output " << output << " is the input folder: the outputs would replace the photos");
    models::TransformNet net = models::load_transform_net(model);
    net->to(dev);
    net->eval();

    std::vector<std::pair<std::string, std::string>> skipped;  // file, why
    std::set<std::string> written;
    int done = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (const auto& in : inputs) {
      const std::string name = in.filename().string();
      try {
        const std::string out_name = output_name(in, format);
        DPST_CHECK(written.insert(out_name).second, InputError,
                   "its output name " << out_name << " is taken by another input");
        cv::Mat rgb = data::decode_image(in);
        if (size > 0) rgb = data::resize_shorter_side(rgb, size);
        maybe_inject_torch_error(name);
        eval::StylizeReport report;
        torch::Tensor y;
        {
          // Inference mode skips autograd's bookkeeping (version counters, views) as well.
          c10::InferenceMode inference;
          y = eval::stylize(*net, data::image_to_tensor(rgb).to(dev), so, &report);
        }
        data::save_image(eval::image_to_mat(y[0]), fs::path(output) / out_name, quality);
        std::cout << "  " << name << " -> " << (fs::path(output) / out_name).string() << " (" << rgb.cols << "x"
                  << rgb.rows << (report.tiles > 1 ? ", " + std::to_string(report.tiles) + " tiles of " +
                                                         std::to_string(report.tile_side) + " px"
                                                   : std::string())
                  << ")\n";
        ++done;
      } catch (const std::exception& e) {
        // One bad photo must not cost the others; it is listed at the end, in one line.
        skipped.emplace_back(name, one_line(e));
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "stylized " << done << " of " << inputs.size() << " image(s) in " << seconds << " s ("
              << (seconds > 0 ? done / seconds : 0.0) << " images/s, decode to save) into " << output << "\n";
    if (!skipped.empty()) {
      std::cerr << "skipped " << skipped.size() << " file(s):\n";
      for (const auto& [file, why] : skipped) std::cerr << "  " << file << ": " << why << "\n";
    }
    DPST_CHECK(done > 0, InputError,
               "nothing could be stylized: " << (inputs.empty() ? "the input folder " + input + " is empty"
                                                                : std::to_string(inputs.size()) + " file(s) skipped"));
    return dpst::kExitOk;
  });
}
