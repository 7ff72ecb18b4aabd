#include "config/flat_yaml.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

#include "common/errors.h"

namespace dpst::config {

std::map<std::string, std::string> read_flat_yaml(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    DPST_THROW(InputError, file.string() << ": cannot be read");
  } catch (const YAML::Exception& e) {
    DPST_THROW(InputError, file.string() << ":" << e.mark.line + 1 << ": not valid YAML: " << e.msg);
  }
  DPST_CHECK(root.IsMap(), InputError, file.string() << ": expected 'key: value' lines");
  std::map<std::string, std::string> out;
  for (const auto& kv : root) {
    if (kv.second.IsScalar()) out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

std::optional<int64_t> flat_yaml_int(const std::map<std::string, std::string>& entries, const std::string& key) {
  const auto it = entries.find(key);
  if (it == entries.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (*end != '\0') return std::nullopt;
  return v;
}

}  // namespace dpst::config
