// Inside src/config only: YAML nodes as the loader reads them, turned into canonical
// Values (sections.h). No header outside this folder includes yaml-cpp.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/config.h"

namespace dpst::config {

// Checks a raw YAML value against a key's spec. Returns the canonical node, or nullopt
// with *error set. Relative paths resolve against base_dir.
std::optional<YAML::Node> canonicalize(const KeySpec& spec, const YAML::Node& raw,
                                       const std::filesystem::path& base_dir, std::string* error);

// A canonical node (as canonicalize returns it) as the Value a Config holds.
Value to_value(const KeySpec& spec, const YAML::Node& canonical);

// sweep.axes as the loader stores it (key -> a list, or a one-entry mapping
// {distribution: [lo, hi]}), in the order written.
std::vector<SweepAxis> to_axes(const YAML::Node& stored);

}  // namespace dpst::config
