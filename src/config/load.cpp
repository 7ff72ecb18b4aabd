// Loading: defaults -> --config files -> --set, then the per-key checks, the file
// checks and, when those pass, the cross-field pass. Every problem is collected and
// reported together.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/cross_checks.h"
#include "config/yaml_values.h"

namespace dpst::config {

namespace fs = std::filesystem;

class Loader {
 public:
  explicit Loader(const LoadOptions& options)
      : options_(options), cwd_(options.cwd.empty() ? fs::current_path() : options.cwd) {}

  Config run() {
    apply_defaults();
    for (const auto& file : options_.files) merge_file(file);
    for (const auto& text : options_.overrides) apply_override(text);
    if (options_.check_files) check_files();
    if (!problems_.empty()) throw ConfigProblems(problems_);
    for (const auto& spec : registry_.keys()) {
      if (spec.type == KeyType::AxisMap) {
        config_.axes_ = to_axes(nodes_.at(spec.key));
      } else {
        config_.values_[spec.key] = to_value(spec, nodes_.at(spec.key));
      }
    }
    config_.bind();
    // Cross-field rules assume every value is individually valid, so they run second.
    problems_ = cross_field_problems(config_, options_.world_size, options_.check_files);
    if (!problems_.empty()) throw ConfigProblems(problems_);
    return std::move(config_);
  }

 private:
  const Registry& registry_ = Registry::instance();
  const LoadOptions& options_;
  fs::path cwd_;
  std::map<std::string, YAML::Node> nodes_;  // canonical, by key; Values once all are valid
  Config config_;                            // origins as values are stored; values at the end
  std::vector<Problem> problems_;

  void problem(const Origin& where, const std::string& key, const std::string& message) {
    problems_.push_back({where, key, message});
  }

  static Origin at(const std::string& file, const YAML::Node& node) {
    Origin o;
    o.file = file;
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null()) {
      o.line = mark.line + 1;
      o.column = mark.column + 1;
    }
    return o;
  }

  std::string unknown_key_message(const std::string& key) const {
    std::string msg = "unknown key";
    const std::string near = registry_.suggest(key);
    if (!near.empty() && near != key) msg += " (did you mean '" + near + "'?)";
    return msg;
  }

  void apply_defaults() {
    Origin origin;
    origin.label = "default";
    for (const auto& spec : registry_.keys()) {
      std::string error;
      const auto value = canonicalize(spec, YAML::Load(spec.default_yaml), cwd_, &error);
      DPST_CHECK(value.has_value(), InternalError, "default of " << spec.key << " is invalid: " << error);
      nodes_[spec.key] = *value;
      config_.origins_[spec.key] = origin;
    }
  }

  void store(const KeySpec& spec, const YAML::Node& raw, const fs::path& base, const Origin& where) {
    std::string error;
    auto value = canonicalize(spec, raw, base, &error);
    if (!value) {
      problem(where, spec.key, error);
      return;
    }
    if (spec.type == KeyType::AxisMap && raw.IsMap()) {
      value = check_axes(raw, base, where);  // the raw node keeps line:column marks
      if (!value) return;
    }
    nodes_[spec.key] = *value;
    config_.origins_[spec.key] = where;
  }

  // Each axis names a sweepable key. Its value is a non-empty list of distinct values,
  // each valid for that key, or (int and float keys; random search draws from it) a
  // range {uniform: [lo, hi]} or {log_uniform: [lo, hi]} whose ends are valid for the
  // key, so every draw is too. Whether the method allows a range is checked when the
  // sweep is expanded (sweep.method may be set after the axes).
  std::optional<YAML::Node> check_axes(const YAML::Node& axes, const fs::path& base, const Origin& where) {
    YAML::Node out(YAML::NodeType::Map);
    const size_t before = problems_.size();
    auto origin_of = [&](const YAML::Node& node) { return where.file.empty() ? where : at(where.file, node); };
    for (const auto& kv : axes) {
      const std::string key = kv.first.Scalar();
      const std::string path = "sweep.axes." + key;
      const Origin o = origin_of(kv.first);
      const KeySpec* spec = registry_.find(key);
      if (spec == nullptr) {
        problem(o, path, unknown_key_message(key));
        continue;
      }
      if (!spec->sweepable) {
        problem(o, path, "cannot be swept (it is shared by every trial of a sweep)");
        continue;
      }
      if (kv.second.IsMap()) {
        if (auto range = check_range(*spec, kv.second, base, origin_of)) out[key] = *range;
        continue;
      }
      if (!kv.second.IsSequence() || kv.second.size() == 0) {
        problem(o, path, "expected a non-empty list of values (or, for an int or float key and "
                         "sweep.method: random, a range {uniform: [lo, hi]} or {log_uniform: [lo, hi]})");
        continue;
      }
      YAML::Node values(YAML::NodeType::Sequence);
      std::map<std::string, size_t> seen;  // canonical text -> 1-based position
      for (size_t i = 0; i < kv.second.size(); ++i) {
        std::string error;
        const auto v = canonicalize(*spec, kv.second[i], base, &error);
        if (!v) {
          problem(origin_of(kv.second[i]), path, "value " + std::to_string(i + 1) + ": " + error);
          continue;
        }
        // Two equal values would make two trials with the same parameters (and folder).
        const std::string text = format_value(*spec, to_value(*spec, *v));
        const auto [first, fresh] = seen.emplace(text, i + 1);
        if (!fresh) {
          problem(origin_of(kv.second[i]), path, "value " + std::to_string(i + 1) + " (" + text +
                                                     ") repeats value " + std::to_string(first->second));
          continue;
        }
        values.push_back(*v);
      }
      out[key] = values;
    }
    if (problems_.size() != before) return std::nullopt;
    return out;
  }

  // {uniform: [lo, hi]} or {log_uniform: [lo, hi]}; stored canonical, in the same shape.
  template <typename OriginOf>
  std::optional<YAML::Node> check_range(const KeySpec& spec, const YAML::Node& range, const fs::path& base,
                                        const OriginOf& origin_of) {
    const std::string path = "sweep.axes." + spec.key;
    const Origin o = origin_of(range);
    if (spec.type != KeyType::Int && spec.type != KeyType::Float) {
      problem(o, path, std::string("a range needs an int or float key, but this is a ") + type_name(spec.type) +
                           "; list its values instead");
      return std::nullopt;
    }
    if (range.size() != 1) {
      problem(o, path, "a range has one entry, {uniform: [lo, hi]} or {log_uniform: [lo, hi]}; got " +
                           std::to_string(range.size()) + " entries");
      return std::nullopt;
    }
    const auto entry = range.begin();
    const std::string name = entry->first.Scalar();
    const auto& names = axis_distributions();
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      std::string msg = "unknown range '" + name + "'; use uniform or log_uniform";
      const std::string near = closest(name, names);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      problem(origin_of(entry->first), path, msg);
      return std::nullopt;
    }
    const YAML::Node ends = entry->second;
    if (!ends.IsSequence() || ends.size() != 2) {
      problem(origin_of(ends), path, name + " expects [lo, hi]");
      return std::nullopt;
    }
    YAML::Node canonical(YAML::NodeType::Sequence);
    const char* end_names[] = {"lo", "hi"};
    for (size_t i = 0; i < 2; ++i) {
      std::string error;
      const auto v = canonicalize(spec, ends[i], base, &error);
      if (!v) {
        problem(origin_of(ends[i]), path, name + " " + end_names[i] + ": " + error);
        return std::nullopt;
      }
      canonical.push_back(*v);
    }
    const double lo = canonical[0].as<double>();
    const double hi = canonical[1].as<double>();
    if (!(lo < hi)) {
      problem(origin_of(ends), path, name + " needs lo < hi (got " + format_value(spec, to_value(spec, canonical[0])) + ", " +
                                         format_value(spec, to_value(spec, canonical[1])) + ")");
      return std::nullopt;
    }
    if (name == "log_uniform" && !(lo > 0)) {
      problem(origin_of(ends[0]), path, "log_uniform needs lo > 0 (got " + format_value(spec, to_value(spec, canonical[0])) +
                                            "); use uniform for a range that includes 0");
      return std::nullopt;
    }
    YAML::Node out(YAML::NodeType::Map);
    out[name] = canonical;
    return out;
  }

  void merge_file(const std::string& file) {
    std::ifstream in(file);
    if (!in) {
      Origin o;
      o.file = file;
      problem(o, "", std::string("cannot read config file: ") + std::strerror(errno));
      return;
    }
    YAML::Node root;
    try {
      root = YAML::Load(in);
    } catch (const YAML::ParserException& e) {
      Origin o;
      o.file = file;
      o.line = e.mark.line + 1;
      o.column = e.mark.column + 1;
      problem(o, "", "malformed YAML: " + e.msg);
      return;
    }
    if (root.IsNull()) return;  // an empty file changes nothing
    if (!root.IsMap()) {
      problem(at(file, root), "", "expected a mapping of sections (run:, data:, ...) at the top level");
      return;
    }
    const fs::path base = fs::absolute(fs::path(file)).parent_path();
    walk(root, "", file, base);
  }

  void walk(const YAML::Node& map, const std::string& prefix, const std::string& file, const fs::path& base) {
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const std::string name = kv.first.Scalar();
      const std::string key = prefix.empty() ? name : prefix + "." + name;
      const Origin key_at = at(file, kv.first);
      if (!seen.insert(name).second) {
        problem(key_at, key, "duplicate key (it is set earlier in the same mapping)");
        continue;
      }
      if (const KeySpec* spec = registry_.find(key)) {
        store(*spec, kv.second, base, at(file, kv.second.IsNull() ? kv.first : kv.second));
      } else if (prefix.empty() && registry_.is_section(key)) {
        if (kv.second.IsMap()) {
          walk(kv.second, key, file, base);
        } else if (!kv.second.IsNull()) {
          problem(key_at, key, "is a section; expected a mapping of its keys");
        }
      } else {
        problem(key_at, key, unknown_key_message(key));
      }
    }
  }

  void apply_override(const std::string& text) {
    Origin where;
    where.label = "--set " + text;
    const auto eq = text.find('=');
    if (eq == std::string::npos || eq == 0) {
      problem(where, "", "expected KEY=VALUE, e.g. --set optim.lr=1e-4");
      return;
    }
    const std::string key = text.substr(0, eq);
    const std::string value_text = text.substr(eq + 1);
    const KeySpec* spec = registry_.find(key);
    if (spec == nullptr) {
      problem(where, key, registry_.is_section(key) ? "is a section; set one of its keys (section.key=value)"
                                                    : unknown_key_message(key));
      return;
    }
    YAML::Node raw;
    try {
      raw = YAML::Load(value_text);
    } catch (const YAML::ParserException& e) {
      problem(where, key, "cannot parse value '" + value_text + "': " + e.msg);
      return;
    }
    store(*spec, raw, cwd_, where);
  }

  void check_files() {
    // Keys swept over are checked per value: the base value may stay unset.
    std::set<std::string> swept;
    for (const auto& kv : nodes_.at("sweep.axes")) swept.insert(kv.first.Scalar());
    for (const auto& spec : registry_.keys()) {
      const YAML::Node& v = nodes_.at(spec.key);
      const Origin& where = config_.origin(spec.key);
      if (spec.required && !swept.count(spec.key) && v.IsScalar() && v.Scalar().empty()) {
        problem(where, spec.key, "is required but not set by any config file or --set");
      }
      if (spec.must_exist) check_each_exists(spec.key, v, where);
    }
    for (const auto& kv : nodes_.at("sweep.axes")) {
      const KeySpec* spec = registry_.find(kv.first.Scalar());
      if (spec == nullptr || !spec->must_exist) continue;
      for (const auto& v : kv.second) check_each_exists("sweep.axes." + spec->key, v, config_.origin("sweep.axes"));
    }
  }

  // A canonical path, or each path of a list (loss.style_image with several styles).
  void check_each_exists(const std::string& key, const YAML::Node& value, const Origin& where) {
    if (value.IsScalar()) check_exists(key, value.Scalar(), where);
    if (value.IsSequence())
      for (const auto& item : value) check_exists(key, item.Scalar(), where);
  }

  void check_exists(const std::string& key, const std::string& path, const Origin& where) {
    if (path.empty()) return;
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (!fs::exists(status)) {
      problem(where, key, "file not found: " + path);
    } else if (fs::is_directory(status)) {
      problem(where, key, "is a folder, expected a file: " + path);
    } else if (!std::ifstream(path)) {
      problem(where, key, "file cannot be read (permissions?): " + path);
    }
  }
};

Config load(const LoadOptions& options) { return Loader(options).run(); }

}  // namespace dpst::config
