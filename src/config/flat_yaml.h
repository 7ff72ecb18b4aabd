// The small "key: value" files of a run folder (progress.yml, FINISHED, a checkpoint's
// state.yml): read here, so that yaml-cpp stays inside src/config.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace dpst::config {

// The top-level scalar entries of a YAML mapping file, as text. Throws InputError naming
// the file when it cannot be read, is not valid YAML or is not a mapping.
std::map<std::string, std::string> read_flat_yaml(const std::filesystem::path& file);

}  // namespace dpst::config
