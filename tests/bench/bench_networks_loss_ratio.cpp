// Measures the raw content loss (relu2_2) and raw depth loss (hourglass `output`) of an
// untrained f_W at N x N, to choose loss.depth_weight so that λ3·l_depth ≈ λ1·l_content
// at the start of training (DESIGN.md §7): λ3 = λ1 · l_content / l_depth.
//
//   bench_networks_loss_ratio --images DIR [--size 256] [--max 16] [--seeds 3]
//                             [--vgg FILE] [--depth FILE] [--content-weight 1e5] [--threads 2]
// Without --vgg/--depth the loss networks use the deterministic random init of
// loss_nets.allow_random_init (seed 0); rerun with converted pretrained weights.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "bench/bench_table.h"
#include "losses/losses.h"
#include "models/models.h"

namespace {
namespace fs = std::filesystem;
using namespace dpst;

torch::Tensor read_image(const fs::path& path, int size) {
  cv::Mat bgr = cv::imread(path.string(), cv::IMREAD_COLOR);
  if (bgr.empty()) return {};
  cv::Mat rgb, resized;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  cv::resize(rgb, resized, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  return torch::from_blob(resized.data, {size, size, 3}, torch::kUInt8).clone().permute({2, 0, 1}).to(torch::kFloat32) /
         255.0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string images, vgg_file, depth_file;
  int size = 256, max_images = 16, seeds = 3, threads = 2;
  double content_weight = 1e5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--images") images = argv[i + 1];
    else if (a == "--size") size = std::atoi(argv[i + 1]);
    else if (a == "--max") max_images = std::atoi(argv[i + 1]);
    else if (a == "--seeds") seeds = std::atoi(argv[i + 1]);
    else if (a == "--vgg") vgg_file = argv[i + 1];
    else if (a == "--depth") depth_file = argv[i + 1];
    else if (a == "--content-weight") content_weight = std::atof(argv[i + 1]);
    else if (a == "--threads") threads = std::atoi(argv[i + 1]);
  }
  if (images.empty()) {
    std::fprintf(stderr, "usage: bench_networks_loss_ratio --images DIR [options]\n");
    return 2;
  }
  torch::set_num_threads(threads);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(images))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<torch::Tensor> xs;
  for (const auto& f : files) {
    if (static_cast<int>(xs.size()) >= max_images) break;
    torch::Tensor t = read_image(f, size);
    if (t.defined()) xs.push_back(t);
  }
  const torch::Tensor x = torch::stack(xs);

  auto vgg = models::load_vgg16({vgg_file, true, "--vgg"});
  auto depth = models::load_hourglass({depth_file, true, "--depth"});
  bench::preamble("what", "raw content (relu2_2) and depth (output) loss of an untrained f_W, for loss.depth_weight");
  bench::preamble("images", std::to_string(xs.size()) + " from " + images + ", resized to " + std::to_string(size) +
                                "x" + std::to_string(size) + " (INTER_AREA)");
  bench::preamble("vgg16", vgg.provenance.source);
  bench::preamble("hourglass", depth.provenance.source);
  bench::preamble("f_W", "paper defaults (width 32, 5 residual blocks), LibTorch default init, torch::manual_seed(s)");
  bench::preamble("threads", std::to_string(threads));
  bench::Table table({"seed", "content", "depth", "content/depth"}, {"", "raw", "raw", ""}, 16);
  table.print_header();
  torch::NoGradGuard no_grad;
  const auto targets = losses::compute_targets(vgg.net, &depth.net, x, {"relu2_2"}, {"output"});
  double sum_ratio = 0;
  for (int s = 0; s < seeds; ++s) {
    torch::manual_seed(s);
    models::TransformNet fw;
    double c = 0, d = 0;
    for (int64_t i = 0; i < x.size(0); i += 4) {
      const int64_t n = std::min<int64_t>(4, x.size(0) - i);
      const torch::Tensor y = fw->forward(x.narrow(0, i, n));
      const auto tc = models::slice_taps(targets.content, i, n), td = models::slice_taps(targets.depth, i, n);
      c += n * losses::content_loss(vgg.net->forward_taps(y, {"relu2_2"}), tc, {"relu2_2"}).item<double>();
      d += n * losses::depth_loss(depth.net->forward_taps(y, {"output"}), td, {"output"}).item<double>();
    }
    c /= x.size(0);
    d /= x.size(0);
    sum_ratio += c / d;
    table.print_row({std::to_string(s), bench::fmt(c, 5), bench::fmt(d, 5), bench::fmt(c / d, 3)});
  }
  const double ratio = sum_ratio / seeds;
  std::printf("# mean content/depth ratio %.3f -> loss.depth_weight = content_weight x ratio = %.3g (content_weight %.3g)\n",
              ratio, content_weight * ratio, content_weight);
  // configs/*.yaml and the loss.depth_weight default use 2.8e5: it must stay within 10%
  // of what these loss definitions and weights call for.
  constexpr double kConfiguredDepthWeight = 2.8e5;
  const double wanted = content_weight * ratio;
  return bench::verdict("loss.depth_weight from the ratio", bench::fmt(wanted, 0),
                        "2.8e5 +- 10%, the configs' value",
                        std::abs(wanted / kConfiguredDepthWeight - 1.0) <= 0.10);
}
