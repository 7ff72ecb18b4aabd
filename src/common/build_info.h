// Versions of dpst and of the libraries it was built against, for --version and
// --build-info, and for the "how it was made" header of results tables.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dpst {

std::string version_string();  // "dpst 0.1.0 (git abc123)"

// (component, version or "off") pairs: dpst, git, LibTorch, MPI, HDF5, CUDA, NCCL, ...
// The MPI row is passed in (dist::MpiSession::library_version()): only src/dist talks to MPI.
std::vector<std::pair<std::string, std::string>> build_info(const std::string& mpi_version);

std::string build_info_text(const std::string& mpi_version);  // build_info() as aligned lines

}  // namespace dpst
