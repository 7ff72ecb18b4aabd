// Loader throughput from a packed file: images/s delivered to a consumer that does
// nothing else, and how long the consumer waited. Run pinned to one core to measure
// "one core" (taskset -c 0). The first pass warms the page cache.
//   bench_loader --file FILE.h5 [--split train2014] [--batch 16] [--batches 200]
//                [--threads 1,2] [--prefetch 4]
#include <CLI/CLI.hpp>

#include <sched.h>

#include <chrono>
#include <sstream>

#include "bench/bench_table.h"
#include "common/common.h"
#include "data/loader.h"

int main(int argc, char** argv) {
  CLI::App app{"bench_loader: data loader images/s from a pack_coco file"};
  std::string file, split = "train2014", threads_list = "1,2";
  int batch = 16, batches = 200, prefetch = 4;
  app.add_option("--file", file, "pack_coco output")->required();
  app.add_option("--split", split);
  app.add_option("--batch", batch, "images per batch");
  app.add_option("--batches", batches, "batches timed per row");
  app.add_option("--threads", threads_list, "comma-separated loader thread counts");
  app.add_option("--prefetch", prefetch, "batches prefetched");
  CLI11_PARSE(app, argc, argv);
  return dpst::guarded_main([&]() -> int {
    dpst::logging::init(0, 1, "warn");
    // Conversion to float is a plain loop in the loader thread; keep LibTorch's own
    // pool out of the measurement.
    torch::set_num_threads(1);
    // A 16-image float batch is 12 MB; above glibc's mmap threshold every batch would be
    // a fresh mmap with page faults and zeroing (a third of the time, measured). As the
    // trainer's main.
    dpst::keep_freed_memory_for_reuse();
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    sched_getaffinity(0, sizeof cpus, &cpus);
    const auto probe = dpst::data::Dataset::open(file, split);

    namespace b = dpst::bench;
    b::preamble("what", "Loader::next() images/s, consumer does no work (upper bound the trainer can draw)");
    b::preamble("file", file + " split " + split + ", " + std::to_string(probe.size()) + " images of " +
                            std::to_string(probe.image_size()) + "x" + std::to_string(probe.image_size()));
    b::preamble("cores available to this process", std::to_string(CPU_COUNT(&cpus)) + " (pin with taskset -c 0 for one core)");
    b::preamble("torch intra-op threads", std::to_string(torch::get_num_threads()));
    b::preamble("output", "float32 [0,1] NCHW, random order (seeded permutation), batch " + std::to_string(batch));
    b::Table table({"threads", "prefetch", "batch", "batches", "images/s", "MB/s", "wait", "wait/batch"},
                   {"", "", "", "", "img/s", "MB/s", "ms", "ms"});
    table.print_header();
    double one_thread_ips = -1;  // the target's row
    std::stringstream ss(threads_list);
    for (std::string t; std::getline(ss, t, ',');) {
      const int threads = std::stoi(t);
      for (int pass = 0; pass < 2; ++pass) {  // pass 0: warm-up (page cache), not printed
        dpst::data::Sampler sampler(probe.size(), batch, 1, 0, 1234 + pass);
        dpst::data::Loader loader({file, split, threads, prefetch}, sampler);
        const auto t0 = std::chrono::steady_clock::now();
        int64_t images = 0;
        for (int i = 0; i < batches; ++i) images += loader.next().images.size(0);
        const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (pass == 0) continue;
        const double ips = images / s;
        if (threads == 1) one_thread_ips = ips;
        const double mb = ips * 3.0 * probe.image_size() * probe.image_size() / 1e6;
        table.print_row({t, std::to_string(prefetch), std::to_string(batch), std::to_string(batches), b::fmt(ips, 0),
                         b::fmt(mb, 0), b::fmt(loader.wait_ms(), 1), b::fmt(loader.wait_ms() / batches, 2)});
      }
    }
    // The trainer must never wait on data: one loader thread on one core (taskset -c 0)
    // must feed 2000 images/s at 256x256 (the results/loader.md target).
    if (one_thread_ips < 0) return b::verdict("images/s with 1 loader thread", "not measured (add 1 to --threads)", ">= 2000", false);
    return b::verdict("images/s with 1 loader thread", b::fmt(one_thread_ips, 0), ">= 2000", one_thread_ips >= 2000);
  });
}
