#include "dist/device.h"

#include <torch/cuda.h>

#include <sched.h>

#include <thread>

#include "common/errors.h"

namespace dpst::dist {

torch::Device select_device(const std::string& setting, int local_rank, int local_size) {
  if (setting == "cpu") return torch::kCPU;
  const bool have_cuda = torch::cuda::is_available();
  if (setting == "auto" && !have_cuda) return torch::kCPU;
  DPST_CHECK(have_cuda, ConfigError, "train.device is cuda but no CUDA device is available to this rank "
                                         "(or dpst was built against a CPU-only LibTorch)");
  const int gpus = static_cast<int>(torch::cuda::device_count());
  DPST_CHECK(local_size <= gpus, ConfigError,
             local_size << " ranks run on this node but it has " << gpus << " GPU(s): ranks " << gpus
                        << " and 0 would share GPU 0. Start at most one rank per GPU (e.g. mpirun -np " << gpus
                        << " per node, or srun --gpus-per-task=1)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

int threads_per_rank(int requested_or_zero, int local_size) {
  if (requested_or_zero > 0) return requested_or_zero;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof mask, &mask) == 0) {
    const int allowed = CPU_COUNT(&mask);
    // A launcher that bound this rank (mpirun --bind-to, srun --cpus-per-task) already
    // gave it its share of the node.
    if (allowed > 0 && allowed < cores) return allowed;
  }
  return std::max(1, cores / std::max(1, local_size));
}

}  // namespace dpst::dist
