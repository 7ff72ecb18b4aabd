// Where f_W's inference time goes, layer by layer, in the module (TransformNetImpl::forward,
// what dpst-stylize ran before issue 25) and in the CPU inference path
// (models/transform_inference.h, what it runs now), on one image per size.
//
// Module rows: the time between two InstanceNorms is the conv row (with its reflection
// pad, the upsample of deconv1/deconv2 and the previous layer's ReLU / residual add); a
// norm row is the InstanceNorm alone. Inference rows: the conv alone, and the norm pass
// with its ReLU, residual and the next conv's padding. Residual blocks are summed over
// the blocks.
//
//   bench_fw_layers [--sizes 640x400,1920x1080] [--iters 3] [--threads 2] [--heap keep|default]
//                   [--photos DIR]
// The input is a random image of each size, or with --photos the first photo of DIR
// (e.g. bench_stylize.py's resized copies) at each size; the output difference is then taken
// over every photo of DIR.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_table.h"
#include "common/app.h"
#include "common/errors.h"
#include "data/image_io.h"
#include "data/image_tensor.h"
#include "models/models.h"
#include "models/transform_inference.h"

namespace {
using namespace dpst;
using Clock = std::chrono::steady_clock;
using Times = models::TransformNetInference::StepTimes;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// "res3.in1" -> "res*.in1", "deconv1 (upsample)" -> "deconv1", "pad input" -> "conv1":
// the rows both paths share.
std::string row_of(std::string step) {
  if (step == "pad input") return "conv1";
  if (const auto space = step.find(' '); space != std::string::npos) step = step.substr(0, space);
  if (step.rfind("res", 0) == 0 && step.find('.') != std::string::npos) return "res*" + step.substr(step.find('.'));
  return step;
}

// The module's forward, timed between and inside its InstanceNorms.
Times module_steps(models::TransformNetImpl& net, const torch::Tensor& x, torch::Tensor* out) {
  static const std::vector<std::string> convs = {"conv1", "conv2", "conv3"};
  std::vector<std::string> names = {"in1", "in2", "in3"};
  for (int64_t b = 1; b <= net.options().residual_blocks; ++b) {
    names.push_back("res" + std::to_string(b) + ".in1");
    names.push_back("res" + std::to_string(b) + ".in2");
  }
  names.push_back("in4");
  names.push_back("in5");
  auto conv_before = [&](size_t k) -> std::string {
    if (k < 3) return convs[k];
    if (k + 2 == names.size()) return "deconv1";
    if (k + 1 == names.size()) return "deconv2";
    const std::string& n = names[k];
    return n.substr(0, n.find('.')) + (n.back() == '1' ? ".conv1" : ".conv2");
  };
  Times times;
  size_t k = 0;
  auto mark = Clock::now();
  *out = net.forward(x, [&](torch::nn::InstanceNorm2dImpl& in, const torch::Tensor& y) {
    times.emplace_back(conv_before(k), seconds_since(mark));
    const auto t0 = Clock::now();
    auto r = in.forward(y);
    times.emplace_back(names[k++], seconds_since(t0));
    mark = Clock::now();
    return r;
  });
  times.emplace_back("deconv3", seconds_since(mark));
  return times;
}

void add(std::map<std::string, double>& rows, const Times& times, double weight) {
  for (const auto& [step, s] : times) rows[row_of(step)] += s * weight;
}

}  // namespace

int main(int argc, char** argv) {
  std::string sizes = "640x400,1920x1080";
  std::string heap = "keep", photos;
  int iters = 3, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--sizes")) sizes = argv[i + 1];
    else if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--heap")) heap = argv[i + 1];
    else if (!std::strcmp(argv[i], "--photos")) photos = argv[i + 1];
  }
  torch::set_num_threads(threads);
  if (heap == "keep") keep_freed_memory_for_reuse();  // as dpst-stylize does
  bench::preamble("what", "f_W per layer: the module (before issue 25) and the CPU inference path (after)");
  bench::preamble("command", "bench_fw_layers --sizes " + sizes + " --iters " + std::to_string(iters) +
                                 " --threads " + std::to_string(threads) + " --heap " + heap +
                                 (photos.empty() ? "" : " --photos " + photos));
  bench::preamble("heap", heap == "keep" ? "freed memory kept for reuse (keep_freed_memory_for_reuse, as dpst-stylize)"
                                         : "glibc's default (large blocks mmapped and unmapped each time)");
  bench::preamble("libtorch", TORCH_VERSION);
  bench::preamble("threads", std::to_string(torch::get_num_threads()) + " intra-op, " +
                                 std::to_string(std::thread::hardware_concurrency()) + " hardware threads");
  bench::preamble("timing", "best of " + std::to_string(iters) + " forwards per path after 1 warm-up (rows from "
                            "the best one), fp32, batch 1, InferenceMode");
  bench::preamble("model", "paper-sized f_W (width 32, 5 residual blocks), deterministic init");

  models::TransformNet net;
  models::det_init(*net, 0);
  net->eval();
  const models::TransformNetInference fast(*net);
  c10::InferenceMode inference;
  bool ok = true;
  std::istringstream list(sizes);
  for (std::string size; std::getline(list, size, ',');) {
    const auto x_at = size.find('x');
    const int64_t w = std::atoll(size.substr(0, x_at).c_str()), h = std::atoll(size.substr(x_at + 1).c_str());
    torch::manual_seed(0);
    std::vector<torch::Tensor> inputs{torch::rand({1, 3, h, w})};
    if (!photos.empty()) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(photos)) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      DPST_CHECK(!files.empty(), InputError, "--photos " << photos << " is empty");
      inputs.clear();
      for (const auto& file : files) {
        const torch::Tensor photo = data::image_to_tensor(data::decode_image(file));
        inputs.push_back(torch::nn::functional::interpolate(photo, torch::nn::functional::InterpolateFuncOptions()
                                                                       .size(std::vector<int64_t>{h, w})
                                                                       .mode(torch::kBilinear)
                                                                       .align_corners(false))
                             .clamp(0, 1)
                             .contiguous());
      }
    }
    const torch::Tensor& x = inputs.front();
    torch::Tensor y_module, y_fast;
    models::InstanceNormStats unused;
    Times best_module, best_fast;
    double module_total = 1e30, fast_total = 1e30;
    for (int i = 0; i <= iters; ++i) {
      auto t0 = Clock::now();
      Times m = module_steps(*net, x, &y_module);
      const double tm = seconds_since(t0);
      Times f;
      t0 = Clock::now();
      y_fast = fast.forward(x, models::NormStatsMode::kOwn, unused, &f);
      const double tf = seconds_since(t0);
      if (i == 0) continue;  // warm-up
      if (tm < module_total) module_total = tm, best_module = m;
      if (tf < fast_total) fast_total = tf, best_fast = f;
    }
    std::map<std::string, double> module_rows, fast_rows;
    add(module_rows, best_module, 1000.0);
    add(fast_rows, best_fast, 1000.0);
    double diff = 0;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (i > 0) {
        y_module = net->forward(inputs[i]);
        y_fast = fast.forward(inputs[i], models::NormStatsMode::kOwn, unused);
      }
      diff = std::max(diff, (y_module.clamp(0, 1) - y_fast.clamp(0, 1)).abs().max().item<double>());
    }
    std::printf("#\n# %s: the module %.0f ms, the inference path %.0f ms (%.2fx); max |diff| on [0, 1] %.2e%s\n",
                size.c_str(), module_total * 1000, fast_total * 1000, module_total / fast_total, diff,
                inputs.size() > 1 ? (" over " + std::to_string(inputs.size()) + " photos").c_str() : "");
    bench::Table table({"layer", "module", "inference", "saved"}, {"", "ms", "ms", "ms"}, 14);
    table.print_header();
    std::vector<std::string> order;
    for (const auto& [step, s] : best_module)
      if (std::find(order.begin(), order.end(), row_of(step)) == order.end()) order.push_back(row_of(step));
    for (const auto& row : order) {
      table.print_row({row, bench::fmt(module_rows[row], 1), bench::fmt(fast_rows[row], 1),
                       bench::fmt(module_rows[row] - fast_rows[row], 1)});
    }
    table.print_row({"total", bench::fmt(module_total * 1000, 1), bench::fmt(fast_total * 1000, 1),
                     bench::fmt((module_total - fast_total) * 1000, 1)});
    ok = ok && fast_total < module_total && diff <= 1e-5;
  }
  return bench::verdict("inference path faster than the module at every size, outputs within 1e-5",
                        ok ? "yes" : "no", "yes", ok);
}
