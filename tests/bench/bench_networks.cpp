// Per network at N x N (default 256): parameters, GMAC per image (convolutions), and
// forward / backward time per image on CPU. Frozen loss networks are timed the way the
// trainer uses them: forward to their last needed tap, backward to the input (the
// gradient flows through them to f_W); f_W's backward includes its weight gradients.
//
//   bench_networks [--size 256] [--batch 2] [--iters 3] [--threads 2]
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <thread>

#include "bench/bench_table.h"
#include "common/build_info.h"
#include "models/models.h"

namespace {
using namespace dpst;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main(int argc, char** argv) {
  int size = 256, batch = 2, iters = 3, threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--size")) size = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--iters")) iters = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  bench::preamble("what", "networks of dpst: size, GMAC/image and CPU forward/backward time per image");
  bench::preamble("command", std::string("bench_networks --size ") + std::to_string(size) + " --batch " +
                                 std::to_string(batch) + " --iters " + std::to_string(iters) + " --threads " +
                                 std::to_string(threads));
  bench::preamble("libtorch", TORCH_VERSION);
  bench::preamble("threads", std::to_string(torch::get_num_threads()) + " intra-op (torch::set_num_threads), " +
                                 std::to_string(std::thread::hardware_concurrency()) + " hardware threads");
  bench::preamble("timing", "mean of " + std::to_string(iters) + " timed iterations after 1 warm-up, "
                            "batch " + std::to_string(batch) + ", divided by the batch; fp32, CPU");
  bench::preamble("weights", "deterministic init (timing does not depend on the values)");

  bench::Table table({"network", "params", "GMAC/img", "fwd ms/img", "bwd ms/img"}, {"", "M", "", "ms", "ms"}, 14);
  table.print_header();

  struct Net {
    std::string name;
    std::shared_ptr<torch::nn::Module> module;
    std::function<torch::Tensor(const torch::Tensor&)> forward;  // returns a scalar to backprop
  };
  models::Vgg16 vgg;
  models::Hourglass hg;
  models::TransformNet fw;
  for (auto* m : std::vector<torch::nn::Module*>{vgg.get(), hg.get(), fw.get()}) models::det_init(*m, 0);
  models::freeze(*vgg);
  models::freeze(*hg);
  std::vector<Net> nets = {
      {"transform", fw.ptr(), [&](const torch::Tensor& x) { return fw->forward(x).sum(); }},
      {"vgg16", vgg.ptr(),
       [&](const torch::Tensor& x) {
         torch::Tensor s;
         for (const auto& [n, t] : vgg->forward_taps(x, models::Vgg16Impl::tap_names()))
           s = s.defined() ? s + t.sum() : t.sum();
         return s;
       }},
      {"hourglass", hg.ptr(), [&](const torch::Tensor& x) { return hg->forward(x).sum(); }},
  };
  std::map<std::string, std::pair<double, double>> ms_per_image;  // network -> (fwd, bwd)
  for (auto& net : nets) {
    double gmac = 0;
    {
      torch::NoGradGuard no_grad;
      models::MacCounter counter;
      net.forward(torch::zeros({1, 3, size, size}));
      gmac = counter.macs_per_image() / 1e9;
    }
    double fwd = 0, bwd = 0;
    for (int it = 0; it <= iters; ++it) {
      torch::Tensor x = torch::rand({batch, 3, size, size}).requires_grad_(true);
      auto t0 = Clock::now();
      torch::Tensor s = net.forward(x);
      const double f = seconds_since(t0);
      t0 = Clock::now();
      s.backward();
      const double b = seconds_since(t0);
      if (it > 0) {
        fwd += f;
        bwd += b;
      }
    }
    ms_per_image[net.name] = {1e3 * fwd / iters / batch, 1e3 * bwd / iters / batch};
    table.print_row({net.name, bench::fmt(models::parameter_count(*net.module) / 1e6, 3), bench::fmt(gmac, 2),
                     bench::fmt(ms_per_image[net.name].first, 1), bench::fmt(ms_per_image[net.name].second, 1)});
  }
  // One training step with the default loss, per image: f_W forward and backward, VGG16
  // and the hourglass on x (targets, forward only) and on y (forward and backward). The
  // target is the figure of results/networks.md's LibTorch 1.13 + OpenBLAS build at
  // 256x256 on 2 threads (3.4 s), scaled with the pixel count for other sizes: a
  // regression bound.
  const auto& [fw_f, fw_b] = ms_per_image.at("transform");
  const auto& [vgg_f, vgg_b] = ms_per_image.at("vgg16");
  const auto& [hg_f, hg_b] = ms_per_image.at("hourglass");
  const double step_ms = fw_f + fw_b + 2 * vgg_f + vgg_b + 2 * hg_f + hg_b;
  const double target_ms = 3400.0 * (size / 256.0) * (size / 256.0);
  return bench::verdict("default-loss step per image at " + std::to_string(size) + "x" + std::to_string(size),
                        bench::fmt(step_ms, 0) + " ms", "<= " + bench::fmt(target_ms, 0) + " ms", step_ms <= target_ms);
}
