// dpst-eval: evaluate trained f_W models on the val split and write the results tables.
//   dpst-eval SWEEP_DIR   every finished trial -> SWEEP_DIR/ablation.{md,csv}, grid-<style>.png,
//                         and each trial's eval.json
//   dpst-eval MODEL.h5    one model (its config.yaml beside it, or --config) -> one row
// The work is in src/eval (run_eval); this main parses, prints and maps errors to codes.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <iomanip>
#include <iostream>
#include <string>
#include <thread>

#include "common/common.h"
#include "dist/device.h"
#include "eval/eval.h"

namespace {

// The command line as one line, arguments with spaces quoted: the tables' "command".
std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.find_first_of(" \t'\"") != std::string::npos) a = "'" + a + "'";
    out += (i ? " " : "") + a;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dpst-eval: evaluate every finished trial of a sweep folder (or one exported model) on the val "
               "split: content/style/depth/TV loss, depth preservation (ordinal agreement, Pearson, SSIM of depth "
               "maps), grayscale SSIM; writes ablation.md/.csv and per-style image grids."};
  app.set_version_flag("--version", dpst::version_string());
  dpst::eval::EvalRunOptions o;
  std::string target, out, data, config, device = "cpu", log_level = "warn";
  int64_t images = 0, grid_images = 4;
  int threads = 0;
  app.add_option("target", target, "a sweep folder (trial folders with FINISHED) or a model .h5 file")->required();
  app.add_option("--data", data, "packed dataset to evaluate on (default: each trial's data.path)");
  app.add_option("--images", images, "first N val images (default: the config's eval.images)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--out", out, "folder for the tables and grids (default: the sweep folder / the model's folder)");
  app.add_option("--config", config, "model mode: the trial config, when no config.yaml lies beside the model");
  app.add_option("--grid-images", grid_images, "val images per grid; 0 = no grids (default 4)")
      ->check(CLI::Range(int64_t{0}, int64_t{64}));
  dpst::add_device_threads_log_options(app, &device, &threads, &log_level);
  if (const auto code = dpst::parse_command_line(app, argc, argv)) return *code;
  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, log_level);
    torch::set_num_threads(dpst::tool_threads(threads));
    o.target = target;
    o.out = out;
    o.data = data;
    o.config = config;
    o.images = images;
    o.grid_images = grid_images;
    o.device = dpst::dist::select_device(device, "--device", 0, 1);
    o.command = command_line(argc, argv);
    const auto result = dpst::eval::run_eval(o);
    using dpst::eval::format_number;
    std::cout << std::left << std::setw(36) << "trial" << std::setw(10) << "lambda3" << std::setw(10) << "ordinal"
              << std::setw(10) << "pearson" << std::setw(11) << "depth_ssim" << std::setw(10) << "ssim_gray"
              << std::setw(12) << "style" << "images/s\n";
    for (const auto& r : result.rows) {
      const auto& m = r.metrics;
      std::cout << std::setw(36) << r.id << std::setw(10) << format_number(r.depth_weight) << std::setw(10)
                << format_number(m.ordinal_agreement) << std::setw(10) << format_number(m.depth_pearson)
                << std::setw(11) << format_number(m.depth_ssim) << std::setw(10) << format_number(m.ssim_gray)
                << std::setw(12) << format_number(m.style) << format_number(m.images_per_second) << "\n";
    }
    if (!result.rows.empty() && result.rows.front().loss_nets != "pretrained")
      std::cout << "WARNING: loss networks are " << result.rows.front().loss_nets
                << ": the numbers show the pipeline, not real quality\n";
    for (const auto& note : result.notes) std::cout << "note: " << note << "\n";
    for (const auto& f : result.files) std::cout << "wrote " << f.string() << "\n";
    return dpst::kExitOk;
  });
}
