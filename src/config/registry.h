// The registry of configuration keys: each key is declared once, in registry.cpp, with
// its type, default, allowed values and help. Everything else (validation, --dump-config,
// --help-config, sweep axes) reads from here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace dpst::config {

enum class KeyType {
  Bool,
  Int,
  Float,
  String,
  Path,        // file or folder; relative values resolve against the config file's folder
  PathOrList,  // one path, or a list of distinct paths (several style images: one trial)
  Choice,      // one string out of `choices`
  StringList,  // list of strings; items from `choices` when that is non-empty
  IntOrAuto,   // an integer or the word auto
  AxisMap,     // sweep axes: {dotted key: [values...]}
};

const char* type_name(KeyType type);

struct KeySpec {
  std::string key;           // dotted path: section.name
  KeyType type = KeyType::String;
  std::string default_yaml;  // the default, as YAML text
  std::optional<double> min;
  bool min_exclusive = false;
  std::optional<double> max;
  int64_t multiple_of = 0;   // Int: value must be a multiple of this (0 = any)
  std::vector<std::string> choices;
  bool required = false;     // must be set (non-empty) before any work starts
  bool must_exist = false;   // Path: must name an existing file when set
  bool sweepable = true;     // may appear as a sweep axis
  // One value for every trial of a pack (the pack shares the dataset, the batch stream and
  // the step loop): swept only with sweep.trials_per_pack = 1.
  bool pack_wide = false;
  std::string help;

  std::string section() const { return key.substr(0, key.find('.')); }
  std::string range_text() const;  // "(>= 0)", "(one of: fp32, bf16)", "" ...
};

class Registry {
 public:
  static const Registry& instance();

  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* find(const std::string& key) const;
  bool is_section(const std::string& name) const;
  std::vector<std::string> sections() const;  // in declaration order

  // Closest known key to `key` (same section first, then anywhere, including a leaf
  // of the same name in another section); empty when nothing is close.
  std::string suggest(const std::string& key) const;

 private:
  Registry();
  std::vector<KeySpec> keys_;
};

// Edit distance, for did-you-mean suggestions.
size_t edit_distance(const std::string& a, const std::string& b);

// The closest of `candidates` to `word`, if close enough to be a likely typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace dpst::config
