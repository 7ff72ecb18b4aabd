// The resolved Config: typed accessors, --dump-config and --help-config text.
#include "config/config.h"

#include <algorithm>
#include <initializer_list>
#include <sstream>
#include <variant>

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
                   (spec->type == KeyType::Choice || spec->type == KeyType::Path)) ||
                  (expected == KeyType::Path && spec->type == KeyType::PathOrList);
  DPST_CHECK(ok, InternalError,
             "config key '" << key << "' is a " << type_name(spec->type) << ", read as " << type_name(expected));
  return *spec;
}

const Value& Config::value(const std::string& key) const {
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
  return std::get<bool>(value(key));
}
int64_t Config::get_int(const std::string& key) const {
  spec_of(key, KeyType::Int);
  return std::get<int64_t>(value(key));
}
double Config::get_float(const std::string& key) const {
  spec_of(key, KeyType::Float);
  return std::get<double>(value(key));
}
std::string Config::get_string(const std::string& key) const {
  spec_of(key, KeyType::String);
  return std::get<std::string>(value(key));
}
std::filesystem::path Config::get_path(const std::string& key) const {
  spec_of(key, KeyType::Path);
  const Value& v = value(key);
  DPST_CHECK(std::holds_alternative<std::string>(v), InternalError,
             "config key '" << key << "' holds a list of paths; read it with get_paths");
  return std::get<std::string>(v);
}
std::vector<std::filesystem::path> Config::get_paths(const std::string& key) const {
  spec_of(key, KeyType::PathOrList);
  return paths_of(value(key));
}
std::vector<std::string> Config::get_strings(const std::string& key) const {
  spec_of(key, KeyType::StringList);
  return std::get<std::vector<std::string>>(value(key));
}
std::optional<int64_t> Config::get_int_or_auto(const std::string& key) const {
  spec_of(key, KeyType::IntOrAuto);
  const Value& v = value(key);
  if (std::holds_alternative<std::string>(v)) return std::nullopt;
  return std::get<int64_t>(v);
}

std::vector<std::filesystem::path> paths_of(const Value& v) {
  if (std::holds_alternative<std::string>(v)) {
    const std::string& one = std::get<std::string>(v);
    if (one.empty()) return {};
    return {std::filesystem::path(one)};
  }
  DPST_CHECK(std::holds_alternative<std::vector<std::string>>(v), InternalError, "paths_of: not a path or list");
  std::vector<std::filesystem::path> out;
  for (const auto& p : std::get<std::vector<std::string>>(v)) out.emplace_back(p);
  return out;
}

namespace {

// Whether `v` holds the alternative that a key of `type` holds.
bool fits(KeyType type, const Value& v) {
  switch (type) {
    case KeyType::Bool: return std::holds_alternative<bool>(v);
    case KeyType::Int: return std::holds_alternative<int64_t>(v);
    case KeyType::Float: return std::holds_alternative<double>(v);
    case KeyType::String:
    case KeyType::Path:
    case KeyType::Choice: return std::holds_alternative<std::string>(v);
    case KeyType::StringList: return std::holds_alternative<std::vector<std::string>>(v);
    case KeyType::PathOrList:
      return std::holds_alternative<std::string>(v) ||
             (std::holds_alternative<std::vector<std::string>>(v) && std::get<std::vector<std::string>>(v).size() > 1);
    case KeyType::IntOrAuto:
      return std::holds_alternative<int64_t>(v) ||
             (std::holds_alternative<std::string>(v) && std::get<std::string>(v) == "auto");
    case KeyType::AxisMap: return false;
  }
  return false;
}

}  // namespace

void Config::set(const std::string& key, const Value& canonical, const Origin& origin) {
  const KeySpec* spec = Registry::instance().find(key);
  DPST_CHECK(spec != nullptr, InternalError, "config key '" << key << "' is not in the registry");
  DPST_CHECK(fits(spec->type, canonical), InternalError,
             "config key '" << key << "' is a " << type_name(spec->type) << "; set() got another type");
  values_[key] = canonical;
  origins_[key] = origin;
  bind();
}

void Config::make_single_trial(const Origin& origin) {
  values_["sweep.method"] = std::string("none");
  values_["sweep.num_trials"] = int64_t{0};
  axes_.clear();
  for (const char* key : {"sweep.method", "sweep.num_trials", "sweep.axes"}) origins_[key] = origin;
  bind();
}

namespace {

// Binding one field from its key: the field's C++ type names the key type it reads.
struct FieldBinder {
  const Config& config;
  void operator()(const char* key, std::string& f) const { f = std::get<std::string>(checked(key, {KeyType::String, KeyType::Choice})); }
  void operator()(const char* key, std::filesystem::path& f) const { f = std::get<std::string>(checked(key, {KeyType::Path})); }
  void operator()(const char* key, int64_t& f) const { f = std::get<int64_t>(checked(key, {KeyType::Int})); }
  void operator()(const char* key, double& f) const { f = std::get<double>(checked(key, {KeyType::Float})); }
  void operator()(const char* key, bool& f) const { f = std::get<bool>(checked(key, {KeyType::Bool})); }
  void operator()(const char* key, std::vector<std::filesystem::path>& f) const {
    f = paths_of(checked(key, {KeyType::PathOrList}));
  }
  void operator()(const char* key, std::vector<std::string>& f) const {
    f = std::get<std::vector<std::string>>(checked(key, {KeyType::StringList}));
  }
  void operator()(const char* key, std::optional<int64_t>& f) const {
    const Value& v = checked(key, {KeyType::IntOrAuto});
    f = std::holds_alternative<int64_t>(v) ? std::optional<int64_t>(std::get<int64_t>(v)) : std::nullopt;
  }
  void operator()(const char* key, std::vector<SweepAxis>& f) const {
    spec(key, {KeyType::AxisMap});
    f = config.sweep_axes();
  }

  const KeySpec& spec(const char* key, std::initializer_list<KeyType> types) const {
    const KeySpec* s = Registry::instance().find(key);
    DPST_CHECK(s != nullptr, InternalError, "section field " << key << " has no registry key");
    DPST_CHECK(std::find(types.begin(), types.end(), s->type) != types.end(), InternalError,
               "section field " << key << " has a C++ type that does not hold a " << type_name(s->type));
    return *s;
  }
  const Value& checked(const char* key, std::initializer_list<KeyType> types) const {
    spec(key, types);
    return config.value(key);
  }
};

}  // namespace

void Config::bind() {
  Sections bound{};
  size_t fields = 0;
  const FieldBinder binder{*this};
  for_each_field(bound, [&](const char* key, auto& field) {
    binder(key, field);
    ++fields;
  });
  DPST_CHECK(fields == Registry::instance().keys().size(), InternalError,
             "the sections have " << fields << " fields but the registry has " << Registry::instance().keys().size()
                                  << " keys");
  sections_ = std::move(bound);
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
    if (spec.type != KeyType::AxisMap) {
      os << "  " << leaf << ": " << format_value(spec, value(spec.key)) << "\n";
    } else if (axes_.empty()) {
      os << "  " << leaf << ": {}\n";
    } else {
      os << "  " << leaf << ":\n";
      for (const auto& axis : axes_) os << "    " << axis.key << ": " << format_axis(axis) << "\n";
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
