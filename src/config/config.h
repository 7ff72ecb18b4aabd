// src/config: the one registry of configuration keys and the resolved Config.
//  - registry.h  every key declared once: type, default, allowed range or choices, help;
//  - config.h    loading: defaults -> --config files (later wins) -> --set overrides,
//                strict validation that reports every problem at once (dotted key,
//                file:line:column, did-you-mean), a separate cross-field pass, and
//                --dump-config output that loads back to the same text.
//  - sections.h  the typed sections (RunConfig, TrainConfig, ...) that code outside
//                src/config reads: config.train().iterations, never a key string;
//  - flat_yaml.h the small key: value files of a run folder (progress.yml, state.yml).
// Relative paths resolve against the folder of the config file that set them
// (--set and defaults: the current directory). yaml-cpp is used in this folder only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/errors.h"
#include "config/registry.h"
#include "config/sections.h"

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

// The range distributions a sweep axis can name.
inline const std::vector<std::string>& axis_distributions() {
  static const std::vector<std::string> kNames = {"uniform", "log_uniform"};
  return kNames;
}

class Config {
 public:
  // The typed sections, bound from the values below whenever they change.
  const Sections& sections() const { return sections_; }
  const RunConfig& run() const { return sections_.run; }
  const DataConfig& data() const { return sections_.data; }
  const ModelConfig& model() const { return sections_.model; }
  const LossNetsConfig& loss_nets() const { return sections_.loss_nets; }
  const LossConfig& loss() const { return sections_.loss; }
  const OptimConfig& optim() const { return sections_.optim; }
  const TrainConfig& train() const { return sections_.train; }
  const SweepConfig& sweep() const { return sections_.sweep; }
  const EvalConfig& eval() const { return sections_.eval; }

  // By key, for code that handles keys generically (the loader, the cross-field rules,
  // sweep expansion, tests). Each checks that the key has the type read.
  bool get_bool(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  std::string get_string(const std::string& key) const;  // String, Choice, Path
  std::filesystem::path get_path(const std::string& key) const;  // absolute or empty; one path only
  std::vector<std::filesystem::path> get_paths(const std::string& key) const;  // PathOrList: 0, 1 or more
  std::vector<std::string> get_strings(const std::string& key) const;
  std::optional<int64_t> get_int_or_auto(const std::string& key) const;  // nullopt = auto
  // sweep.axes in the order written. A range axis ({log_uniform: [lo, hi]}, random search
  // only) holds its two ends: the extremes of what it can draw.
  const std::vector<SweepAxis>& sweep_axes() const { return axes_; }

  // The canonical value of any key but sweep.axes.
  const Value& value(const std::string& key) const;
  const Origin& origin(const std::string& key) const;

  // Replaces one value (already canonical for its key's type, which is checked), e.g. a
  // sweep trial's.
  void set(const std::string& key, const Value& canonical, const Origin& origin);
  // Makes this a configuration of one trial: sweep.method none, no axes, num_trials 0,
  // each set with `origin`. A trial's config.yaml then re-runs it alone.
  void make_single_trial(const Origin& origin);

  // The resolved configuration as YAML, every key in registry order.
  std::string dump() const;
  // The configuration hash every result prints: FNV-1a (32 bits) of dump() as 8 hex
  // digits. The sweep summary, eval.json and the ablation tables all use this.
  std::string hash() const;

 private:
  friend class Loader;
  const KeySpec& spec_of(const std::string& key, KeyType expected) const;
  void bind();  // sections_ from values_ and axes_
  std::map<std::string, Value> values_;
  std::vector<SweepAxis> axes_;
  std::map<std::string, Origin> origins_;
  Sections sections_{};
};

// Loads and validates; throws ConfigProblems listing every problem.
Config load(const LoadOptions& options);

// The registry as help text for --help-config.
std::string help_text();

// A canonical value as it appears in --dump-config output (spec's type must fit the value).
std::string format_value(const KeySpec& spec, const Value& canonical);

// One sweep axis's values as --dump-config writes them: "[a, b]" or "{log_uniform: [lo, hi]}".
std::string format_axis(const SweepAxis& axis);
// All axes in the compact form tables use: "{key: [a, b], key2: {uniform: [lo, hi]}}".
std::string format_axes(const std::vector<SweepAxis>& axes);

// The paths of a Path or PathOrList value: none when unset, else one or more.
std::vector<std::filesystem::path> paths_of(const Value& canonical);

// Reads a value of a numeric key as a double (Int or Float), e.g. a range's ends.
double as_number(const Value& v);

}  // namespace dpst::config
