// src/config: the one registry of configuration keys and the resolved Config.
//  - registry.h  every key declared once: type, default, allowed range or choices, help;
//  - config.h    loading: defaults -> --config files (later wins) -> --set overrides,
//                strict validation that reports every problem at once (dotted key,
//                file:line:column, did-you-mean), a separate cross-field pass, and
//                --dump-config output that loads back to the same text.
// Relative paths resolve against the folder of the config file that set them
// (--set and defaults: the current directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/errors.h"
#include "config/registry.h"

namespace dpst::config {

// Where a value came from: "file.yaml:3:14", "--set key=value" or "default".
struct Origin {
  std::string file;  // empty for defaults and --set
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;
  std::string label;  // used when file is empty
  std::string to_string() const;
};

// One thing wrong with a configuration.
struct Problem {
  Origin where;
  std::string key;  // dotted path, may be empty (e.g. malformed YAML)
  std::string message;
  std::string to_string() const;  // "where: key: message"
};

// Thrown by load(): every problem found in one pass, one per line.
class ConfigProblems : public ConfigError {
 public:
  explicit ConfigProblems(std::vector<Problem> problems);
  const std::vector<Problem>& problems() const { return problems_; }

 private:
  std::vector<Problem> problems_;
};

struct LoadOptions {
  std::vector<std::string> files;      // --config, in order; later files win
  std::vector<std::string> overrides;  // --set KEY=VALUE, applied after all files
  int world_size = 1;                  // for cross-field checks on rank groups
  // Check that required keys are set and that files they name exist. Off for
  // commands that only print (e.g. --dump-config), so a config can be inspected on a
  // machine without the data.
  bool check_files = true;
  std::filesystem::path cwd;  // empty = current directory
};

// One sweep axis as written in sweep.axes: a list of values, or (sweep.method: random,
// int and float keys) a range {uniform: [lo, hi]} or {log_uniform: [lo, hi]}.
struct SweepAxis {
  std::string key;
  std::string distribution;        // "" for a list; else "uniform" or "log_uniform"
  std::vector<YAML::Node> values;  // canonical: the list, or {lo, hi}
  bool is_range() const { return !distribution.empty(); }
};

// The range distributions a sweep axis can name.
inline const std::vector<std::string>& axis_distributions() {
  static const std::vector<std::string> kNames = {"uniform", "log_uniform"};
  return kNames;
}

class Config {
 public:
  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::string get_string(const std::string& key) const;  // String, Choice, Path
  std::filesystem::path get_path(const std::string& key) const;  // absolute or empty
  std::vector<std::string> get_strings(const std::string& key) const;
  std::optional<int64_t> get_int_or_auto(const std::string& key) const;  // nullopt = auto
  // Sweep axes: key -> canonical values, in the order written. A range axis
  // ({log_uniform: [lo, hi]}, random search only) gives its two ends: the extremes of
  // what it can draw, which is what the cross-field rules need.
  std::vector<std::pair<std::string, std::vector<YAML::Node>>> get_axes(const std::string& key) const;
  // The same axes with their kind (see SweepAxis).
  std::vector<SweepAxis> get_sweep_axes(const std::string& key) const;

  const YAML::Node& node(const std::string& key) const;
  const Origin& origin(const std::string& key) const;

  // Replaces one value (already canonical for its key's type), e.g. a sweep trial's.
  void set(const std::string& key, const YAML::Node& canonical, const Origin& origin);

  // The resolved configuration as YAML, every key in registry order.
  std::string dump() const;
  // The configuration hash every result prints: FNV-1a (32 bits) of dump() as 8 hex
  // digits. The sweep summary, eval.json and the ablation tables all use this.
  std::string hash() const;

 private:
  friend class Loader;
  const KeySpec& spec_of(const std::string& key, KeyType expected) const;
  std::map<std::string, YAML::Node> values_;
  std::map<std::string, Origin> origins_;
};

// Loads and validates; throws ConfigProblems listing every problem.
Config load(const LoadOptions& options);

// The registry as help text for --help-config.
std::string help_text();

// Checks a raw YAML value against a key's spec. Returns the canonical value, or
// nullopt with *error set. Relative paths resolve against base_dir.
std::optional<YAML::Node> canonicalize(const KeySpec& spec, const YAML::Node& raw,
                                       const std::filesystem::path& base_dir, std::string* error);

// A canonical value as it appears in --dump-config output.
std::string format_value(const KeySpec& spec, const YAML::Node& canonical);

// A value of sweep.axes as the loader stores it (a list, or a one-entry mapping
// {distribution: [lo, hi]}) as a SweepAxis.
SweepAxis stored_axis(const std::string& key, const YAML::Node& stored);

// One sweep axis's values as --dump-config writes them: "[a, b]" or "{log_uniform: [lo, hi]}".
std::string format_axis(const SweepAxis& axis);

}  // namespace dpst::config
