// The resolved Config: typed accessors, --dump-config and --help-config text.
#include "config/config.h"

#include <sstream>

#include "common/hash.h"

namespace dpst::config {

std::string Origin::to_string() const {
  if (file.empty()) return label.empty() ? std::string("default") : label;
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  return s;
}

std::string Problem::to_string() const {
  std::string s = where.to_string() + ": ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

namespace {
std::string join_problems(const std::vector<Problem>& problems) {
  std::ostringstream os;
  os << problems.size() << (problems.size() == 1 ? " configuration problem:" : " configuration problems:");
  for (const auto& p : problems) os << "\n  " << p.to_string();
  return os.str();
}
}  // namespace

ConfigProblems::ConfigProblems(std::vector<Problem> problems)
    : ConfigError(join_problems(problems)), problems_(std::move(problems)) {}

const KeySpec& Config::spec_of(const std::string& key, KeyType expected) const {
  const KeySpec* spec = Registry::instance().find(key);
  DPST_CHECK(spec != nullptr, InternalError, "config key '" << key << "' is not in the registry");
  const bool ok = spec->type == expected ||
                  (expected == KeyType::String &&
                   (spec->type == KeyType::Choice || spec->type == KeyType::Path));
  DPST_CHECK(ok, InternalError,
             "config key '" << key << "' is a " << type_name(spec->type) << ", read as " << type_name(expected));
  return *spec;
}

const YAML::Node& Config::node(const std::string& key) const {
  const auto it = values_.find(key);
  DPST_CHECK(it != values_.end(), InternalError, "config key '" << key << "' has no value");
  return it->second;
}

const Origin& Config::origin(const std::string& key) const {
  static const Origin kDefault{};
  const auto it = origins_.find(key);
  return it == origins_.end() ? kDefault : it->second;
}

bool Config::get_bool(const std::string& key) const {
  spec_of(key, KeyType::Bool);
  return node(key).as<bool>();
}
int64_t Config::get_int(const std::string& key) const {
  spec_of(key, KeyType::Int);
  return node(key).as<int64_t>();
}
double Config::get_float(const std::string& key) const {
  spec_of(key, KeyType::Float);
  return node(key).as<double>();
}
std::string Config::get_string(const std::string& key) const {
  spec_of(key, KeyType::String);
  return node(key).Scalar();
}
std::filesystem::path Config::get_path(const std::string& key) const {
  spec_of(key, KeyType::Path);
  return node(key).Scalar();
}
std::vector<std::string> Config::get_strings(const std::string& key) const {
  spec_of(key, KeyType::StringList);
  std::vector<std::string> out;
  for (const auto& item : node(key)) out.push_back(item.Scalar());
  return out;
}
std::optional<int64_t> Config::get_int_or_auto(const std::string& key) const {
  spec_of(key, KeyType::IntOrAuto);
  const auto& v = node(key);
  if (v.Scalar() == "auto") return std::nullopt;
  return v.as<int64_t>();
}
std::vector<SweepAxis> Config::get_sweep_axes(const std::string& key) const {
  spec_of(key, KeyType::AxisMap);
  std::vector<SweepAxis> out;
  for (const auto& kv : node(key)) out.push_back(stored_axis(kv.first.Scalar(), kv.second));
  return out;
}

std::vector<std::pair<std::string, std::vector<YAML::Node>>> Config::get_axes(const std::string& key) const {
  std::vector<std::pair<std::string, std::vector<YAML::Node>>> out;
  for (auto& axis : get_sweep_axes(key)) out.emplace_back(axis.key, std::move(axis.values));
  return out;
}

void Config::set(const std::string& key, const YAML::Node& canonical, const Origin& origin) {
  DPST_CHECK(Registry::instance().find(key) != nullptr, InternalError,
             "config key '" << key << "' is not in the registry");
  // Not values_[key] = canonical: YAML::Node's operator= rewrites the node in place, and
  // a copied Config shares its nodes with the original (a sweep trial would change the base).
  values_.erase(key);
  values_.emplace(key, canonical);
  origins_[key] = origin;
}

std::string Config::dump() const {
  std::ostringstream os;
  os << "# dpst resolved configuration (dpst-dist --dump-config)\n";
  std::string section;
  for (const auto& spec : Registry::instance().keys()) {
    if (spec.section() != section) {
      section = spec.section();
      os << section << ":\n";
    }
    const std::string leaf = spec.key.substr(section.size() + 1);
    const YAML::Node& v = node(spec.key);
    if (spec.type == KeyType::AxisMap && v.size() > 0) {
      os << "  " << leaf << ":\n";
      for (const auto& axis : get_sweep_axes(spec.key)) {
        os << "    " << axis.key << ": " << format_axis(axis) << "\n";
      }
    } else {
      os << "  " << leaf << ": " << format_value(spec, v) << "\n";
    }
  }
  return os.str();
}

std::string Config::hash() const { return hex8(fnv1a32(dump())); }

std::string help_text() {
  std::ostringstream os;
  os << "Configuration keys (YAML sections; override any with --set section.key=value).\n"
        "Precedence: defaults < --config files, in order < --set.\n";
  std::string section;
  for (const auto& spec : Registry::instance().keys()) {
    if (spec.section() != section) {
      section = spec.section();
      os << "\n" << section << ":\n";
    }
    std::string def = spec.default_yaml == "\"\"" ? "\"\" (unset)" : spec.default_yaml;
    os << "  " << spec.key << "  <" << type_name(spec.type) << ">  default: " << def;
    const std::string range = spec.range_text();
    if (!range.empty()) os << "  " << range;
    if (!spec.sweepable) os << "  [not sweepable]";
    if (spec.pack_wide) os << "  [pack-wide: swept only with sweep.trials_per_pack 1]";
    os << "\n      " << spec.help << "\n";
  }
  return os.str();
}

}  // namespace dpst::config
