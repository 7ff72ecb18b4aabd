// Shared set-up for end-to-end dpst-dist tests: the bundled demo photos packed at
// 32x32 once per test binary, a tiny configuration (narrow f_W, random-init loss
// networks), and helpers to run dpst-dist and compare weight files.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <thread>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/weights_io.h"
#include "support/support.h"

namespace dpst::test {

class TrainingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new TempDir();
    const auto r = run(bin("pack_coco") + " --coco-dir " + source_dir() +
                       "/tests/fixtures/demo/coco --out " + (data_dir_->path() / "demo-32.h5").string() +
                       " --size 32 --threads 2");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(data_dir_->path() / "tiny.yaml",
               "run:\n  name: t\n  seed: 3\n"
               "data:\n  path: demo-32.h5\n  image_size: 32\n  loader_threads: 1\n  prefetch: 2\n"
               "model:\n  width: 8\n  residual_blocks: 1\n"
               "loss_nets:\n  allow_random_init: true\n"
               "loss:\n  style_image: " + source_dir() + "/tests/fixtures/demo/styles/candy.jpg\n"
               "  style_size: 32\n  depth_weight: 1.0e5\n  tv_weight: 1.0\n"
               "train:\n  batch_size: 2\n  iterations: 6\n  threads: 1\n  log_every: 1\n  checkpoint_every: 3\n"
               "  keep_checkpoints: 3\n  collective_timeout_s: 60\n  device: cpu\n"
               "eval:\n  after_training: false\n");
  }
  static void TearDownTestSuite() {
    delete data_dir_;
    data_dir_ = nullptr;
  }

  // The dpst-dist command line for `ranks` processes (0 = no mpirun) with output in `out`.
  static std::string command(int ranks, const std::filesystem::path& out, const std::string& extra = "") {
    const std::string launcher = ranks > 0 ? mpirun(ranks) + " --bind-to none " : std::string();
    return launcher + bin("dpst-dist") + " --config " + (data_dir_->path() / "tiny.yaml").string() +
           " --set run.output_dir=" + out.string() + " " + extra;
  }
  static ProcessResult train(int ranks, const std::filesystem::path& out, const std::string& extra = "") {
    return run(command(ranks, out, extra));
  }

  static std::map<std::string, torch::Tensor> weights(const std::filesystem::path& file) {
    return models::read_all_tensors(file);
  }

  // Relative error of the whole f_W: ||a - b|| / ||b|| over all its values. (Per tensor,
  // the InstanceNorm biases start at 0 and get tiny gradients, so a per-tensor ratio
  // measures Adam's m/sqrt(v) on rounding noise rather than a disagreement.)
  static double relative_error(const std::map<std::string, torch::Tensor>& a,
                               const std::map<std::string, torch::Tensor>& b) {
    EXPECT_EQ(a.size(), b.size());
    double diff = 0, norm = 0;
    for (const auto& [name, t] : a) {
      diff += (t.to(torch::kDouble) - b.at(name).to(torch::kDouble)).pow(2).sum().item<double>();
      norm += b.at(name).to(torch::kDouble).pow(2).sum().item<double>();
    }
    return std::sqrt(diff / norm);
  }
  static double max_abs_difference(const std::map<std::string, torch::Tensor>& a,
                                   const std::map<std::string, torch::Tensor>& b) {
    double worst = 0;
    for (const auto& [name, t] : a) worst = std::max(worst, (t - b.at(name)).abs().max().item<double>());
    return worst;
  }
  static bool bit_equal(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [name, t] : a) {
      if (!torch::equal(t, b.at(name))) return false;
    }
    return true;
  }

  TempDir out_;
  static inline TempDir* data_dir_ = nullptr;
};

// Starts dpst-dist in the background; returns its pid (mpirun's when ranks > 0).
inline pid_t spawn(const std::string& command_line, const std::filesystem::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    // `env` runs the command in place of the shell, so pid is mpirun's own.
    execl("/bin/sh", "sh", "-c", ("exec env " + command_line + " >" + log.string() + " 2>&1").c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// The total loss of every step of a run, from its metrics.jsonl.
inline std::vector<double> step_totals(const std::filesystem::path& trial) {
  std::vector<double> totals;
  std::istringstream lines(read_file(trial / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) totals.push_back(nlohmann::json::parse(line).at("total").get<double>());
  return totals;
}

// bf16 against fp32 from the same start, `steps` steps each: autocast is really on (the
// very first loss, same weights and batch, already differs), training went somewhere, and
// bf16 went to the same place: the mean total loss of the last 10 steps (the same batches
// in both runs) within 2 %.
inline void expect_bf16_tracks_fp32(const std::filesystem::path& fp32, const std::filesystem::path& bf16, size_t steps) {
  const auto a = step_totals(fp32), b = step_totals(bf16);
  ASSERT_EQ(a.size(), steps);
  ASSERT_EQ(b.size(), steps);
  EXPECT_NE(a.front(), b.front());
  double last_a = 0, last_b = 0;
  for (size_t i = steps - 10; i < steps; ++i) {
    last_a += a[i] / 10;
    last_b += b[i] / 10;
  }
  EXPECT_LT(last_a, 0.8 * a.front());
  EXPECT_LT(std::abs(last_b - last_a) / last_a, 0.02) << "fp32 " << last_a << " bf16 " << last_b;
}

inline int64_t metrics_steps(const std::filesystem::path& trial) { return count(read_file(trial / "metrics.jsonl"), "{\"step\":"); }

inline bool wait_for(const std::function<bool()>& ready, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace dpst::test
