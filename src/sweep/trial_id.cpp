#include "sweep/trial_id.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <variant>

#include "config/config.h"

namespace dpst::sweep {
namespace {

using config::KeyType;

bool id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
}

std::string sanitize(const std::string& text) {
  std::string out;
  for (char c : text) out += id_char(c) ? c : '_';
  return out;
}

// Each style stem sanitized on its own, joined by '+' (which a stem itself never gives).
std::string sanitized_stems(const std::vector<std::filesystem::path>& paths) {
  std::string out;
  for (const auto& p : paths) out += (out.empty() ? "" : "+") + sanitize(p.stem().string());
  return out;
}

// The shortest text that reads back as the same double, in %g style, made compact:
// 1e5, 2.8e5, 1e-7, 0.001, 12345.678 (format_value's 100000.0 is long in a name).
std::string compact_float(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;  // e.g. "2.8e+05", "1e-07"
  const auto e = s.find('e');
  if (e == std::string::npos) return s;
  const int exponent = std::atoi(s.c_str() + e + 1);
  return s.substr(0, e) + "e" + std::to_string(exponent);
}

// What a value contributes to the hash: stable across machines (see trial_id.h).
std::string hashed_text(const config::KeySpec& spec, const config::Value& v) {
  if (spec.type == KeyType::Path || spec.type == KeyType::PathOrList) {
    std::string names;  // one path: its file name, as before lists existed; several: joined by '+'
    for (const auto& p : config::paths_of(v)) names += (names.empty() ? "" : "+") + p.filename().string();
    return names;
  }
  return config::format_value(spec, v);
}

// The readable text of a value in an id.
std::string readable_value(const config::KeySpec& spec, const config::Value& v) {
  switch (spec.type) {
    case KeyType::Float: return compact_float(std::get<double>(v));
    case KeyType::Path: return std::filesystem::path(std::get<std::string>(v)).stem().string();
    case KeyType::PathOrList: return sanitized_stems(config::paths_of(v));  // candy+mosaic+wave
    case KeyType::StringList: {
      const auto& items = std::get<std::vector<std::string>>(v);
      if (items.empty()) return "none";
      std::string s;
      for (size_t i = 0; i < items.size(); ++i) s += (i ? "." : "") + items[i];
      return s;
    }
    case KeyType::Bool:
    case KeyType::Int:
    case KeyType::IntOrAuto: return config::format_value(spec, v);
    default: return std::get<std::string>(v);
  }
}

}  // namespace

std::string id_abbreviation(const std::string& key) {
  static const std::map<std::string, std::string> kShort = {
      {"loss.content_weight", "c"}, {"loss.style_weight", "s"},    {"loss.depth_weight", "d"},
      {"loss.tv_weight", "tv"},     {"loss.content_layers", "cl"}, {"loss.style_layers", "sl"},
      {"loss.depth_layers", "dl"},  {"loss.style_size", "ss"},     {"loss.style_image", ""},
      {"optim.lr", "lr"},           {"model.width", "w"},          {"model.residual_blocks", "rb"},
      {"train.iterations", "it"},   {"run.seed", "seed"}};
  const auto it = kShort.find(key);
  return it != kShort.end() ? it->second : key.substr(key.rfind('.') + 1);
}

std::string make_trial_id(const std::vector<std::pair<std::string, config::Value>>& swept) {
  DPST_CHECK(!swept.empty(), InternalError, "a sweep trial id needs at least one swept value");
  std::string canonical;
  std::string readable;
  for (const auto& [key, value] : swept) {
    const config::KeySpec* spec = config::Registry::instance().find(key);
    DPST_CHECK(spec != nullptr, InternalError, "swept key '" << key << "' is not in the registry");
    canonical += key + "=" + hashed_text(*spec, value) + ";";
    const std::string abbr = id_abbreviation(key);
    // Sanitized part by part: a list of styles keeps its '+' separators.
    const std::string text =
        spec->type == KeyType::PathOrList ? readable_value(*spec, value) : sanitize(readable_value(*spec, value));
    // "d2.8e5" reads well; a word value gets a separator: "dl_output".
    const bool separate = !abbr.empty() && !text.empty() &&
                          !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-');
    readable += (readable.empty() ? "" : "-") + abbr + (separate ? "_" : "") + text;
  }
  std::string id = readable;
  while (!id.empty() && (id[0] == '.' || id[0] == '-' || id[0] == '+')) id.erase(0, 1);  // no hidden or option-like names
  const std::string hash = hex8(fnv1a32(canonical));
  if (id.size() > kMaxIdLength - hash.size() - 1) id.resize(kMaxIdLength - hash.size() - 1);
  while (!id.empty() && (id.back() == '-' || id.back() == '.' || id.back() == '+')) id.pop_back();
  return id.empty() ? hash : id + "-" + hash;
}

}  // namespace dpst::sweep
