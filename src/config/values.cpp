// Type checking of single values against their KeySpec, and their canonical text form.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "common/text.h"
#include "config/config.h"
#include "config/yaml_values.h"

namespace dpst::config {
namespace {

namespace fs = std::filesystem;


std::string describe(const YAML::Node& raw) {
  if (!raw.IsDefined() || raw.IsNull()) return "nothing";
  if (raw.IsSequence()) return "a list";
  if (raw.IsMap()) return "a mapping";
  return "'" + raw.Scalar() + "'";
}

bool parse_int(const std::string& text, int64_t* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool parse_float(const std::string& text, double* out) {
  if (text.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || *end != '\0') return false;
  *out = v;
  return true;
}

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// "" when in range, else why not.
std::string range_problem(const KeySpec& spec, double v) {
  if (spec.min && (spec.min_exclusive ? !(v > *spec.min) : !(v >= *spec.min))) {
    return std::string("must be ") + (spec.min_exclusive ? "> " : ">= ") + format_number(*spec.min) +
           " (got " + format_number(v) + ")";
  }
  if (spec.max && !(v <= *spec.max)) {
    return "must be <= " + format_number(*spec.max) + " (got " + format_number(v) + ")";
  }
  return "";
}

std::string choice_problem(const KeySpec& spec, const std::string& value, const std::string& what) {
  std::string list;
  for (size_t i = 0; i < spec.choices.size(); ++i) list += (i ? ", " : "") + spec.choices[i];
  std::string msg = what + " must be one of " + list + " (got '" + value + "')";
  const std::string near = closest(value, spec.choices);
  if (!near.empty()) msg += "; did you mean '" + near + "'?";
  return msg;
}

// Shortest decimal text that reads back as the same double, written the way people
// write config values: 600.0, 0.001, 1.0e5, 2.5e-7 (always with '.' or 'e', so it stays
// a float in YAML).
std::string format_float(double v) {
  char buf[64];
  const double mag = std::fabs(v);
  if (v == 0 || (mag >= 1e-4 && mag < 1e6)) {
    for (int decimals = 0; decimals <= 17; ++decimals) {
      std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
    std::string s = buf;
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*e", precision - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;  // e.g. "1e+10", "2.5e-07"
  const auto e = s.find('e');
  std::string mantissa = s.substr(0, e);
  if (mantissa.find('.') == std::string::npos) mantissa += ".0";
  const int exponent = std::atoi(s.c_str() + e + 1);
  return mantissa + "e" + std::to_string(exponent);
}

std::string quote_if_needed(const std::string& s) {
  static const std::set<std::string> kReserved = {"true", "false", "yes", "no", "on", "off",
                                                  "null", "~", "y", "n"};
  bool plain = !s.empty() && !kReserved.count(lower_case(s));
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
          c == '/' || c == '+')) {
      plain = false;
    }
  }
  if (plain && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' ||
                s[0] == '.')) {
    double ignored = 0;
    if (parse_float(s, &ignored)) plain = false;  // would read back as a number
  }
  if (plain) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// An absolute, normalised path; relative ones resolve against base_dir. "" stays "".
std::string resolve_path(const std::string& text, const fs::path& base_dir) {
  if (text.empty()) return text;
  fs::path p(text);
  if (p.is_relative()) p = base_dir / p;
  return p.lexically_normal().string();
}

}  // namespace

std::optional<YAML::Node> canonicalize(const KeySpec& spec, const YAML::Node& raw,
                                       const fs::path& base_dir, std::string* error) {
  const bool null = !raw.IsDefined() || raw.IsNull();
  auto fail = [&](const std::string& msg) -> std::optional<YAML::Node> {
    *error = msg;
    return std::nullopt;
  };
  auto need_scalar = [&](const char* expected) -> bool {
    if (raw.IsScalar()) return true;
    *error = std::string("expected ") + expected + ", got " + describe(raw);
    return false;
  };

  switch (spec.type) {
    case KeyType::Bool: {
      if (!need_scalar("true or false")) return std::nullopt;
      const std::string v = lower_case(raw.Scalar());
      if (v == "true" || v == "yes" || v == "on") return YAML::Node(true);
      if (v == "false" || v == "no" || v == "off") return YAML::Node(false);
      return fail("expected true or false, got '" + raw.Scalar() + "'");
    }
    case KeyType::Int:
    case KeyType::IntOrAuto: {
      const bool allow_auto = spec.type == KeyType::IntOrAuto;
      const char* expected = allow_auto ? "an integer or auto" : "an integer";
      if (!need_scalar(expected)) return std::nullopt;
      if (allow_auto && lower_case(raw.Scalar()) == "auto") return YAML::Node("auto");
      int64_t v = 0;
      if (!parse_int(raw.Scalar(), &v)) return fail(std::string("expected ") + expected + ", got '" + raw.Scalar() + "'");
      const std::string r = range_problem(spec, static_cast<double>(v));
      if (!r.empty()) return fail(r);
      if (spec.multiple_of > 0 && v % spec.multiple_of != 0) {
        return fail("must be a multiple of " + std::to_string(spec.multiple_of) + " (got " + std::to_string(v) + ")");
      }
      return YAML::Node(v);
    }
    case KeyType::Float: {
      if (!need_scalar("a number")) return std::nullopt;
      double v = 0;
      if (!parse_float(raw.Scalar(), &v)) return fail("expected a number, got '" + raw.Scalar() + "'");
      if (!std::isfinite(v)) return fail("must be a finite number (got '" + raw.Scalar() + "')");
      const std::string r = range_problem(spec, v);
      if (!r.empty()) return fail(r);
      return YAML::Node(v);
    }
    case KeyType::String:
      if (null) return YAML::Node(std::string());
      if (!need_scalar("a string")) return std::nullopt;
      return YAML::Node(raw.Scalar());
    case KeyType::Path: {
      if (null) return YAML::Node(std::string());
      if (!need_scalar("a path")) return std::nullopt;
      return YAML::Node(resolve_path(raw.Scalar(), base_dir));
    }
    case KeyType::PathOrList: {
      if (null) return YAML::Node(std::string());
      if (raw.IsScalar()) return YAML::Node(resolve_path(raw.Scalar(), base_dir));
      if (!raw.IsSequence()) return fail("expected a path or a list of paths, got " + describe(raw));
      if (raw.size() == 0) return fail("expected a path or a non-empty list of paths, got an empty list");
      // Each path's stem names its style (in the model file, logs and tables), so stems
      // must differ and be usable as names.
      YAML::Node out(YAML::NodeType::Sequence);
      std::set<std::string> stems;
      for (size_t i = 0; i < raw.size(); ++i) {
        const std::string item = "item " + std::to_string(i + 1);
        if (!raw[i].IsScalar() || raw[i].Scalar().empty()) {
          return fail(item + " is " + describe(raw[i]) +
                      ", expected a path (a list of lists is a sweep axis: put it under sweep.axes)");
        }
        const std::string path = resolve_path(raw[i].Scalar(), base_dir);
        const std::string stem = fs::path(path).stem().string();
        if (stem.find_first_of(",=") != std::string::npos) {
          return fail(item + " (" + raw[i].Scalar() + "): a style's name is its file name without the extension, "
                      "and it may not contain ',' or '='; rename the file");
        }
        if (!stems.insert(stem).second) {
          return fail(item + " (" + raw[i].Scalar() + "): another item has the same file name '" + stem +
                      "', which names the style; rename one of them");
        }
        out.push_back(path);
      }
      // One path in a list is that path: the same one-style trial, the same id.
      if (out.size() == 1) return YAML::Node(out[0].Scalar());
      return out;
    }
    case KeyType::Choice: {
      if (!need_scalar("a string")) return std::nullopt;
      for (const auto& c : spec.choices) {
        if (raw.Scalar() == c) return YAML::Node(c);
      }
      return fail(choice_problem(spec, raw.Scalar(), "value"));
    }
    case KeyType::StringList: {
      if (!raw.IsSequence()) return fail("expected a list such as [a, b], got " + describe(raw));
      YAML::Node out(YAML::NodeType::Sequence);
      std::set<std::string> seen;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (!raw[i].IsScalar()) return fail("item " + std::to_string(i + 1) + " is " + describe(raw[i]) + ", expected a string");
        const std::string item = raw[i].Scalar();
        if (!spec.choices.empty() &&
            std::find(spec.choices.begin(), spec.choices.end(), item) == spec.choices.end()) {
          return fail(choice_problem(spec, item, "item " + std::to_string(i + 1)));
        }
        if (!seen.insert(item).second) return fail("item '" + item + "' is listed twice");
        out.push_back(item);
      }
      return out;
    }
    case KeyType::AxisMap:
      // Checked key by key in the loader, which knows the registry and the origins.
      if (null) return YAML::Node(YAML::NodeType::Map);
      if (!raw.IsMap()) return fail("expected a mapping {key: [values...]}, got " + describe(raw));
      return YAML::Clone(raw);
  }
  return fail("internal: unhandled type");
}

std::string format_value(const KeySpec& spec, const Value& v) {
  switch (spec.type) {
    case KeyType::Bool: return std::get<bool>(v) ? "true" : "false";
    case KeyType::Int: return std::to_string(std::get<int64_t>(v));
    case KeyType::IntOrAuto:
      return std::holds_alternative<std::string>(v) ? "auto" : std::to_string(std::get<int64_t>(v));
    case KeyType::Float: return format_float(std::get<double>(v));
    case KeyType::String:
    case KeyType::Path:
    case KeyType::Choice: return quote_if_needed(std::get<std::string>(v));
    case KeyType::PathOrList:
      if (std::holds_alternative<std::string>(v)) return quote_if_needed(std::get<std::string>(v));
      [[fallthrough]];
    case KeyType::StringList: {
      const auto& items = std::get<std::vector<std::string>>(v);
      std::string s = "[";
      for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + quote_if_needed(items[i]);
      return s + "]";
    }
    case KeyType::AxisMap: break;  // not a Value: format_axes
  }
  DPST_THROW(InternalError, "format_value: " << spec.key << " is a " << type_name(spec.type));
  return "";
}

double as_number(const Value& v) {
  if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
  DPST_CHECK(std::holds_alternative<double>(v), InternalError, "as_number: not a number");
  return std::get<double>(v);
}

Value to_value(const KeySpec& spec, const YAML::Node& v) {
  switch (spec.type) {
    case KeyType::Bool: return v.as<bool>();
    case KeyType::Int: return v.as<int64_t>();
    case KeyType::IntOrAuto: return v.Scalar() == "auto" ? Value(std::string("auto")) : Value(v.as<int64_t>());
    case KeyType::Float: return v.as<double>();
    case KeyType::String:
    case KeyType::Path:
    case KeyType::Choice: return v.Scalar();
    case KeyType::PathOrList:
      if (v.IsScalar()) return v.Scalar();
      [[fallthrough]];
    case KeyType::StringList: {
      std::vector<std::string> items;
      for (const auto& item : v) items.push_back(item.Scalar());
      return items;
    }
    case KeyType::AxisMap: break;
  }
  DPST_THROW(InternalError, "to_value: " << spec.key << " is a " << type_name(spec.type));
  return false;
}

std::vector<SweepAxis> to_axes(const YAML::Node& stored) {
  std::vector<SweepAxis> out;
  for (const auto& kv : stored) {
    SweepAxis axis;
    axis.key = kv.first.Scalar();
    const KeySpec* spec = Registry::instance().find(axis.key);
    DPST_CHECK(spec != nullptr, InternalError, "sweep axis '" << axis.key << "' is not in the registry");
    // (No Node reassignment: yaml-cpp's operator= rewrites the node shared with `stored`.)
    const bool range = kv.second.IsMap() && kv.second.size() == 1;
    if (range) axis.distribution = kv.second.begin()->first.Scalar();
    const YAML::Node values = range ? kv.second.begin()->second : kv.second;
    for (const auto& item : values) axis.values.push_back(to_value(*spec, item));
    out.push_back(std::move(axis));
  }
  return out;
}

std::string format_axis(const SweepAxis& axis) {
  const KeySpec* spec = Registry::instance().find(axis.key);
  DPST_CHECK(spec != nullptr, InternalError, "sweep axis '" << axis.key << "' is not in the registry");
  std::string s = axis.is_range() ? "{" + axis.distribution + ": [" : "[";
  for (size_t i = 0; i < axis.values.size(); ++i) s += (i ? ", " : "") + format_value(*spec, axis.values[i]);
  return s + (axis.is_range() ? "]}" : "]");
}

std::string format_axes(const std::vector<SweepAxis>& axes) {
  std::string s = "{";
  for (size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + axes[i].key + ": " + format_axis(axes[i]);
  return s + "}";
}

}  // namespace dpst::config
