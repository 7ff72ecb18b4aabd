// The small "key: value" files of a run folder (progress.yml, FINISHED, a checkpoint's
// state.yml): read here, so that yaml-cpp stays inside src/config.
#pragma once

#include <filesystem>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace dpst::config {

// The top-level scalar entries of a YAML mapping file, as text. Throws InputError naming
// the file when it cannot be read, is not valid YAML or is not a mapping.
std::map<std::string, std::string> read_flat_yaml(const std::filesystem::path& file);

// The integer under `key` of such a file's entries; nullopt when absent or not an integer.
std::optional<int64_t> flat_yaml_int(const std::map<std::string, std::string>& entries, const std::string& key);

}  // namespace dpst::config
