#include "common/build_info.h"

#include <hdf5.h>
#include <opencv2/core/version.hpp>
#include <spdlog/version.h>

#include <algorithm>
#include <sstream>

#include "dpst_git_sha.h"

#ifdef DPST_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif
#ifdef DPST_HAVE_NCCL
#include <nccl.h>
#endif

namespace dpst {
namespace {

std::string hdf5_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string cuda_version() {
#ifdef DPST_HAVE_CUDA
  int runtime = 0;
  cudaRuntimeGetVersion(&runtime);
  return std::to_string(runtime / 1000) + "." + std::to_string((runtime % 1000) / 10);
#else
  return "off";
#endif
}

std::string nccl_version() {
#ifdef DPST_HAVE_NCCL
  int v = 0;
  ncclGetVersion(&v);
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
#else
  return "off";
#endif
}

}  // namespace

std::string version_string() { return std::string("dpst ") + DPST_VERSION + " (git " + DPST_GIT_SHA + ")"; }

std::vector<std::pair<std::string, std::string>> build_info(const std::string& mpi_version) {
  return {
      {"dpst", DPST_VERSION},
      {"git", DPST_GIT_SHA},
      {"LibTorch", DPST_TORCH_VERSION},  // from CMake, so this file needs no LibTorch header
      {"MPI", mpi_version},
      {"HDF5", hdf5_version()},
      {"CUDA", cuda_version()},
      {"NCCL", nccl_version()},
      {"OpenCV", CV_VERSION},
      {"spdlog", std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) + "." +
                     std::to_string(SPDLOG_VER_PATCH)},
      {"compiler", __VERSION__},
#ifdef NDEBUG
      {"build", "release"},
#else
      {"build", "debug"},
#endif
  };
}

std::string build_info_text(const std::string& mpi_version) {
  const auto rows = build_info(mpi_version);
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, k.size());
  std::ostringstream os;
  for (const auto& [k, v] : rows) os << k << std::string(width + 2 - k.size(), ' ') << v << "\n";
  return os.str();
}

}  // namespace dpst
