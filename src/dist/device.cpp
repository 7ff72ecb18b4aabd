#include "dist/device.h"

#include <torch/cuda.h>

#include <sched.h>

#include <thread>

#include "common/errors.h"

namespace dpst::dist {

torch::Device select_device(const std::string& setting, const std::string& key, int local_rank, int local_size) {
  if (setting == "cpu") return torch::kCPU;
  const bool have_cuda = torch::cuda::is_available();
  if (setting == "auto" && !have_cuda) return torch::kCPU;
#ifdef DPST_HAVE_CUDA
  DPST_CHECK(have_cuda, ConfigError,
             key << " is cuda but this machine has no CUDA device that this process can use (no GPU, no driver, "
                    "or CUDA_VISIBLE_DEVICES hides them). Use "
                 << key << " cpu, or auto to take a GPU only when there is one");
#else
  DPST_CHECK(have_cuda, ConfigError,
             key << " is cuda but this dpst was built without CUDA (no CUDA toolkit was found at configure time). "
                    "Use "
                 << key << " cpu or auto, or rebuild where nvcc is on PATH");
#endif
  const int gpus = static_cast<int>(torch::cuda::device_count());
  DPST_CHECK(local_size <= gpus, ConfigError,
             local_size << " ranks run on this node but it has " << gpus << " GPU(s): ranks " << gpus
                        << " and 0 would share GPU 0. Start at most one rank per GPU (e.g. mpirun -np " << gpus
                        << " per node, or srun --gpus-per-task=1)");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank));
}

std::string describe_device(const std::string& setting, const std::string& key, const torch::Device& device) {
  if (setting != "auto") return device.str();
  return device.str() + " (" + key + " auto: " + (device.is_cuda() ? "the GPU of this node-local rank" : "no CUDA device") +
         ")";
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
